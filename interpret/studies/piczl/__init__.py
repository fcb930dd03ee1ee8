"""PICZL's published photo-z CNN ensemble, interrogated end to end (real weights; Keras 3 on torch).

Science lives in :mod:`.steps` (pure functions), :mod:`.figures` (one function per figure, ``CAPTIONS``) and
:mod:`.params` (``PiczlParams``, ``COMPACT``). Runner wiring (``compute``, ``FIGURES`` export) is added by
the studies framework.
"""
