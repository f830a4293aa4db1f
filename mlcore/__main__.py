"""``python -m mlcore``: see :mod:`mlcore.cli`. Under ``torchrun --nproc_per_node N`` (WORLD_SIZE > 1)
the processes first join one process group; see :mod:`mlcore.runtime.distributed`."""
import sys

from mlcore.cli import main
from mlcore.runtime import distributed

distributed.init_from_env()
try:
    code = main()
finally:
    distributed.shutdown()
sys.exit(code)
