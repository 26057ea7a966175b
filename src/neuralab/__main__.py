"""``python -m neuralab`` is the ``neuralab`` command (what ``torchrun -m neuralab train SPEC`` starts on each process)."""
from neuralab.cli import main

if __name__ == "__main__":
    main()
