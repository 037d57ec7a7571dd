"""The vid2vid training model: the previous frame of G_Warp at chunk boundaries (official quirk and the
--true_prev_frame fix), and the separation of the G step and the D step."""

from __future__ import annotations

import pytest
import torch

from models import create_training_model
from options.train_options import TrainOptions
from tests.conftest import TINY_MODEL
from training.trainer import backward

L, N_CHUNKS, TG = 2, 4, 3


def build(*extra: str):
    opt = TrainOptions().parse([*TINY_MODEL, "--flownet", "dis", "--no_vgg", "--num_D", "1", "--n_layers_D", "2",
                                "--max_frames_per_gpu", str(L), *extra], save=False)
    torch.manual_seed(0)
    return create_training_model(opt)


def video(n_frames: int = TG - 1 + L * N_CHUNKS):
    """Random labels, frames and instance maps of one 64x32 video: (1, T, C, 32, 64) each."""
    g = torch.Generator().manual_seed(1)
    A = torch.randint(0, 35, (1, n_frames, 1, 32, 64), generator=g).float()
    B = torch.rand(1, n_frames, 3, 32, 64, generator=g) * 2 - 1
    inst = torch.randint(0, 3, (1, n_frames, 1, 32, 64), generator=g).float()
    return A, B, inst


def run_chunks(model) -> list:
    A, B, inst = video()
    state = model.new_video()
    chunks = []
    for k in range(N_CHUNKS):
        window = slice(k * L, k * L + L + TG - 1)
        with torch.no_grad():
            chunks.append(model.generate_chunk(A[:, window], B[:, window], inst[:, window], state, 1, True))
    return chunks, B


@pytest.mark.parametrize("true_prev", [False, True])
def test_previous_frame_of_each_chunks_first_frame(true_prev):
    model = build(*(["--true_prev_frame"] if true_prev else []))
    chunks, B = run_chunks(model)
    # chunk 0: the real frame before the first generated one (frame tG-2 of the video)
    torch.testing.assert_close(chunks[0].frames.fake_B_prev[0], B[0, TG - 2], rtol=0, atol=0)
    for k in (1, 2, 3):
        first_prev = chunks[k].frames.fake_B_prev[0]
        own_last = chunks[k].frames.fake_B[L - 1]
        previous_last = chunks[k - 1].frames.fake_B[L - 1]
        assert not torch.equal(own_last, previous_last)
        expected = previous_last if true_prev else own_last  # official: this chunk's own last frame
        torch.testing.assert_close(first_prev, expected, rtol=0, atol=0)
        # the other frames' previous frame is the frame generated just before, in every case
        torch.testing.assert_close(chunks[k].frames.fake_B_prev[1], chunks[k].frames.fake_B[0], rtol=0, atol=0)


def official_d_gradients(model, chunk) -> list[torch.Tensor]:
    """netD's gradient of loss_D the official way: separate forwards of the real and the detached fake."""
    frames, gan = chunk.frames, model.loss.gan
    real_pair = torch.cat([frames.real_A, frames.real_B], dim=1)
    d_real = d_fake = 0
    for output in (frames.fake_B, frames.fake_B_raw):
        d_real = d_real + gan(model.D.netD(real_pair), True)
        d_fake = d_fake + gan(model.D.netD(torch.cat([frames.real_A, output], dim=1).detach()), False)
    return torch.autograd.grad((d_fake + d_real) * 0.5, list(model.D.netD.parameters()))


def test_each_step_reaches_only_its_network_with_the_official_gradients():
    model = build("--n_scales_temporal", "1", "--n_frames_D", "2")
    A, B, inst = video(TG - 1 + L)
    chunk = model.generate_chunk(A, B, inst, model.new_video(), 1, True)
    losses = model.chunk_losses(chunk)
    assert list(losses.temporal) == [0] and sorted(losses.temporal[0]) == ["D_T_fake0", "D_T_real0"]
    optimizers = {name: torch.optim.SGD(nets, lr=0.0) for name, nets in
                  (("G", model.G.parameters()), ("D", model.D.netD.parameters()),
                   ("D_T0", model.D.netD_T0.parameters()))}
    backward(optimizers["G"], model.generator_total(losses.generator))
    assert all(p.grad is None for p in model.D.parameters())
    g_grads = [p.grad.clone() for p in model.G.parameters() if p.grad is not None]
    assert g_grads and any(g.abs().sum() > 0 for g in g_grads)

    backward(optimizers["D"], model.discriminator_total(losses.discriminator))
    backward(optimizers["D_T0"], model.temporal_discriminator_total(losses.temporal[0], 0))
    assert all(torch.equal(p.grad, g) for p, g in zip([p for p in model.G.parameters() if p.grad is not None],
                                                      g_grads))
    assert all(p.grad is not None for p in model.D.netD_T0.parameters())
    for shared, official in zip([p.grad for p in model.D.netD.parameters()], official_d_gradients(model, chunk)):
        torch.testing.assert_close(shared, official, rtol=0, atol=0)


def test_networks_use_the_official_checkpoint_stems():
    model = build("--n_scales_spatial", "2", "--n_scales_temporal", "3", "--add_face_disc")
    assert list(model.networks()) == ["G0", "G1", "D", "D_T0", "D_T1", "D_T2", "D_f"]
