"""The classical tests run single-threaded: on the shared 2-core machine two OpenMP threads spin against
other jobs and are several times slower than one."""

import torch

torch.set_num_threads(1)
