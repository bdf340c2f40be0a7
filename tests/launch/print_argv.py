"""Stand-in for swiftctl in script tests: prints its arguments as JSON."""

import json
import sys

print(json.dumps(sys.argv[1:]))
