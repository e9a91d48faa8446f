import sys

from mgviz.cli import main

sys.exit(main())
