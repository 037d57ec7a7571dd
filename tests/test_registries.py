"""--model, --netG, --netD and --dataset_mode pick by name; an unknown name lists the known ones."""

from __future__ import annotations

import pytest
import torch.nn as nn

import models
from data import available_dataset_modes, find_dataset_class
from models.networks import factory
from models.networks.discriminators import MultiscaleDiscriminator
from models.networks.generators import CompositeGenerator, CompositeLocalGenerator
from options.train_options import TrainOptions
from util.registry import Registry


def parse(*flags: str):
    return TrainOptions().parse(["--gpu_ids", "-1", "--ngf", "8", "--ndf", "8", *flags], save=False)


def test_model_packages():
    assert models.available_models() == ["vid2vid"]
    package = models.find_model("vid2vid")
    assert callable(package.create_training_model) and callable(package.create_inference_model)
    with pytest.raises(ValueError, match=r"--model pix2pix: no model package models/pix2pix/; available: vid2vid"):
        models.find_model("pix2pix")


def test_generator_and_discriminator_names():
    assert factory.GENERATORS.names() == ["composite", "compositeLocal"]
    assert factory.DISCRIMINATORS.names() == ["multiscale"]
    nets = factory.define_generators(parse("--n_scales_spatial", "2"))
    assert [type(n) for n in nets] == [CompositeGenerator, CompositeLocalGenerator]
    assert all(type(n) is MultiscaleDiscriminator for n in factory.define_discriminators(parse()).values())
    with pytest.raises(ValueError, match=r"--netG unet: unknown generator; known: composite, compositeLocal"):
        factory.define_generators(parse("--netG", "unet"))
    with pytest.raises(ValueError, match=r"--netD patch: unknown discriminator; known: multiscale"):
        factory.define_discriminators(parse("--netD", "patch"))


def test_a_registered_discriminator_is_used_for_every_d(monkeypatch):
    registry = Registry("discriminator", "--netD")
    built = []

    @registry.register("tiny")
    def tiny(opt, input_nc: int, num_D: int) -> nn.Module:
        built.append((input_nc, num_D))
        return nn.Conv2d(input_nc, 1, 1)

    monkeypatch.setattr(factory, "DISCRIMINATORS", registry)
    nets = factory.define_discriminators(parse("--netD", "tiny", "--label_nc", "35", "--add_face_disc",
                                               "--num_D", "3"))
    assert list(nets) == ["D", "D_T0", "D_T1", "D_f"]
    # D: 35 labels + 3; D_T: 3 frames x 3 + 2 flows x 2; D_f: num_D - 2 scales
    assert built == [(38, 3), (13, 3), (13, 3), (38, 1)]
    with pytest.raises(ValueError, match="registered twice"):
        registry.register("tiny")(tiny)


def test_dataset_modes():
    assert {"temporal", "test"} <= set(available_dataset_modes())
    with pytest.raises(ValueError, match=r"--dataset_mode movie: no data/movie_dataset.py; available: "):
        find_dataset_class("movie")


@pytest.mark.parametrize(("flags", "autotuner"), [((), True), (("--debug",), False)])
def test_building_a_model_sets_cudnns_autotuner_as_the_official_models(flags, autotuner):
    import torch

    before = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = not autotuner
    try:
        models.create_training_model(parse("--flownet", "dis", "--no_vgg", "--label_nc", "4", *flags))
        assert torch.backends.cudnn.benchmark is autotuner
    finally:
        torch.backends.cudnn.benchmark = before  # the other tests see the setting they started with
