"""Published ImageNet (ILSVRC-2012 validation) accuracies of the zoo's architectures, with sources.

:func:`~kerascv_course.models.registry.register_model` attaches each entry to its model's metadata
(``ModelMetadata.imagenet``), so the registry, the TF-free catalog and ``kerascv-course compare``
carry it. Accuracies are in percent; ``top5`` is ``None`` where the source gives top-1 only, and
``top1`` is ``None`` where it gives top-5 only. ``source`` says where each figure comes from and how
it was measured (crops), since evaluation protocols differ between papers (Canziani, Paszke &
Culurciello 2016 compare single central crops).

Sources: the papers' tables; for models with a keras.applications twin, the Keras Applications
table (https://keras.io/api/applications/, single 224 or 299 central crop with those weights).
This module imports nothing.
"""

from __future__ import annotations

KERAS = "Keras Applications table (keras.io/api/applications), single central crop"

PUBLISHED_IMAGENET: dict[str, dict[str, object]] = {
    "alexnet": dict(top1=59.3, top5=81.8, source="Krizhevsky et al. 2012, Table 2 (1 CNN, error 40.7/18.2, 10 patches)"),
    "zfnet": dict(top1=61.6, top5=83.5, source="Zeiler & Fergus 2013, Table 2 (1 convnet as per Fig. 3, error 38.4/16.5)"),
    "vgg11": dict(top1=70.4, top5=89.6, source="Simonyan & Zisserman 2014, Table 3 (A, single scale, error 29.6/10.4)"),
    "vgg13": dict(top1=71.3, top5=90.1, source="Simonyan & Zisserman 2014, Table 3 (B, single scale, error 28.7/9.9)"),
    "vgg16": dict(top1=71.3, top5=90.1, source=KERAS),
    "vgg19": dict(top1=71.3, top5=90.0, source=KERAS),
    "googlenet": dict(top1=None, top5=89.93, source="Szegedy et al. 2014 (1 model, 1 crop, top-5 error 10.07)"),
    "bn_inception": dict(top1=74.8, top5=92.2, source="Szegedy et al. 2016 (Inception-v4), Table 2 (single crop, error 25.2/7.8)"),
    "inception_v3": dict(top1=77.9, top5=93.7, source=KERAS),
    "inception_v4": dict(top1=80.0, top5=95.0, source="Szegedy et al. 2016, Table 2 (single crop, error 20.0/5.0)"),
    "inception_resnet_v1": dict(top1=78.7, top5=94.5, source="Szegedy et al. 2016, Table 2 (single crop, error 21.3/5.5)"),
    "inception_resnet_v2": dict(top1=80.3, top5=95.3, source=KERAS),
    "resnet18": dict(top1=72.12, top5=None, source="He et al. 2015, Table 2 (option A shortcuts, 10-crop, error 27.88)"),
    "resnet34": dict(top1=75.48, top5=92.54, source="He et al. 2015, Table 3 (option B, 10-crop, error 24.52/7.46)"),
    "resnet50": dict(top1=74.9, top5=92.1, source=KERAS),
    "resnet101": dict(top1=76.4, top5=92.8, source=KERAS),
    "resnet152": dict(top1=76.6, top5=93.1, source=KERAS),
    "resnet50_v2": dict(top1=76.0, top5=93.0, source=KERAS),
    "resnet101_v2": dict(top1=77.2, top5=93.8, source=KERAS),
    "resnet152_v2": dict(top1=78.0, top5=94.2, source=KERAS),
    "resnext50_32x4d": dict(top1=77.8, top5=None, source="Xie et al. 2017, Table 3 (224 single crop, error 22.2)"),
    "resnext101_32x4d": dict(top1=78.8, top5=None, source="Xie et al. 2017, Table 3 (224 single crop, error 21.2)"),
    "resnext101_64x4d": dict(top1=79.6, top5=94.7, source="Xie et al. 2017 (224 single crop, error 20.4/5.3)"),
    "se_resnet50": dict(top1=76.71, top5=93.38, source="Hu et al. 2018, Table 2 (224 single crop, error 23.29/6.62)"),
    "se_resnet101": dict(top1=77.62, top5=93.93, source="Hu et al. 2018, Table 2 (224 single crop, error 22.38/6.07)"),
    "se_resnet152": dict(top1=78.43, top5=94.27, source="Hu et al. 2018, Table 2 (224 single crop, error 21.57/5.73)"),
    "se_resnext50_32x4d": dict(top1=78.90, top5=94.51, source="Hu et al. 2018, Table 2 (224 single crop, error 21.10/5.49)"),
    "se_resnext101_32x4d": dict(top1=79.30, top5=94.99, source="Hu et al. 2018, Table 2 (224 single crop, error 20.70/5.01)"),
    "senet154": dict(top1=81.32, top5=95.53, source="Hu et al. 2018 (224 single crop, error 18.68/4.47)"),
    "squeezenet1_0": dict(top1=57.5, top5=80.3, source="Iandola et al. 2016, Table 2"),
    "mobilenet": dict(top1=70.4, top5=89.5, source=KERAS),
    "mobilenet_v2": dict(top1=71.3, top5=90.1, source=KERAS),
    "densenet121": dict(top1=75.0, top5=92.3, source=KERAS),
    "densenet169": dict(top1=76.2, top5=93.2, source=KERAS),
    "densenet201": dict(top1=77.3, top5=93.6, source=KERAS),
    "xception": dict(top1=79.0, top5=94.5, source=KERAS),
}
