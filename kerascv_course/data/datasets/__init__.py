"""Datasets: every loader returns ``(tf.data.Dataset, DatasetInfo)``.

Modules: :mod:`.base` (:class:`~.base.DatasetInfo`, :func:`~.base.load_dataset`), :mod:`.embedded`
(``digits``, ``shapes``, ``cracks``), :mod:`.procedural` (the generators of shapes and cracks),
:mod:`.tfds` (tensorflow-datasets, Oxford-IIIT Pet trimaps) and :mod:`.folders` (``folder:PATH``,
``segfolder:PATH``). The names, tasks and splits are in :mod:`kerascv_course.data.catalog`.
Importing this package imports none of them.
"""
