import pytest
import torch

import genlab
from genlab.errors import ConfigError
from genlab.models.autoencoders.latent import interpolate, project_2d, traverse


@pytest.fixture(scope="module")
def vae():
    m = genlab.create("vae", data_shape=(1, 8, 8), hidden_dims=(32,), latent_dim=4, seed=0)
    genlab.Trainer(epochs=3, batch_size=128).fit(m, genlab.data.load("digits"))
    return m


def test_interpolation_starts_and_ends_at_the_reconstructions(vae):
    x = genlab.data.load("digits").x[:2]
    path = interpolate(vae, x[0], x[1], steps=5)
    assert path.shape == (5, 1, 8, 8)
    assert torch.allclose(path[0], vae.reconstruct(x[:1])[0], atol=1e-6)
    assert torch.allclose(path[-1], vae.reconstruct(x[1:])[0], atol=1e-6)
    slerp = interpolate(vae, x[0], x[1], steps=5, spherical=True)
    assert torch.allclose(slerp[0], path[0], atol=1e-5) and not torch.allclose(slerp[2], path[2])
    with pytest.raises(ConfigError, match="steps >= 2"):
        interpolate(vae, x[0], x[1], steps=1)


def test_traversal_changes_only_one_code_dimension(vae):
    x = genlab.data.load("digits").x[0]
    imgs = traverse(vae, x, dim=2, values=torch.tensor([-2.0, 0.0, 2.0]))
    assert imgs.shape == (3, 1, 8, 8) and not torch.allclose(imgs[0], imgs[2])
    z = vae.encode(x.unsqueeze(0))[0].repeat(3, 1)
    z[:, 2] = torch.tensor([-2.0, 0.0, 2.0])
    assert torch.allclose(imgs, vae.decode(z))
    assert traverse(vae, x, dim=0).shape == (9, 1, 8, 8)
    with pytest.raises(ConfigError, match=r"dim must be in 0\.\.3"):
        traverse(vae, x, dim=4)


def test_projection_is_2d_and_separates_digits(vae):
    ds = genlab.data.load("digits")
    pts = project_2d(vae, ds.x, method="pca")
    assert pts.shape == (len(ds), 2)
    centroid = lambda k: pts[(ds.y == k).numpy()].mean(0)  # noqa: E731
    assert ((centroid(0) - centroid(1)) ** 2).sum() > 0.1 * pts.var(0).sum()
