"""Make a kernel that has run notebooks behave like a new one, for the next notebook.

The batch runner (run.py) keeps one kernel per core warm across notebook runs,
so pandas, matplotlib, seaborn, scipy and statsmodels are imported once per
kernel rather than once per notebook. Before each notebook it calls reset()
inside the kernel. reset() clears what a notebook can leave behind: the user
namespace and its history, the execution counter, open figures, matplotlib
settings, pandas options, numpy's error and print settings, warning filters
and the working folder. Imported modules stay loaded,
which is the point. A test checks that a notebook run in a used kernel publishes
the same bytes as one run in a new kernel.
"""
from __future__ import annotations

_baseline: tuple | None = None


def reset(cwd: str) -> None:
    """Return the kernel to its state before the first notebook; then chdir to cwd."""
    import os
    import warnings

    import matplotlib as mpl
    import matplotlib.pyplot as plt  # sets up the inline backend, as a notebook's first import would
    import numpy as np
    import pandas as pd
    from IPython import get_ipython

    global _baseline
    plt.close("all")
    if _baseline is None:
        # The inline backend turns interactive mode on when its first figure is made. Make
        # one before taking the baseline, or restoring it would turn interactive mode off,
        # and a new kernel has it on: figures would no longer be shown at the end of a cell.
        plt.close(plt.figure())
        _baseline = ({k: v for k, v in mpl.rcParams.items() if k != "backend"}, list(warnings.filters),
                     np.geterr(), np.get_printoptions())
    else:
        rc, filters, errors, printing = _baseline
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecated keys and options warn when set
            mpl.rcParams.update(rc)
            pd.reset_option("all")
        np.seterr(**errors)
        np.set_printoptions(**printing)
        warnings.filters[:] = filters
        getattr(warnings, "_filters_mutated", lambda: None)()  # drop the cached lookups
    # The user namespace and In/Out go; a new history session numbers the next
    # notebook's cells from In [1] again.
    get_ipython().reset(new_session=True)
    os.chdir(cwd)
