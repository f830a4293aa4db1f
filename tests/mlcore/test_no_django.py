"""mlcore is a plain library: it imports with Django absent."""
import subprocess
import sys

CODE = """
import importlib.abc, pkgutil, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'django', 'celery', 'rest_framework', 'dashboard', 'recsite'}:
            raise ImportError('mlcore must not import ' + name)

sys.meta_path.insert(0, Block())
import mlcore
for module in pkgutil.walk_packages(mlcore.__path__, 'mlcore.'):
    if module.name != 'mlcore.__main__':
        __import__(module.name)
print('imported', sum(1 for m in sys.modules if m.startswith('mlcore')), 'mlcore modules')
"""


def test_mlcore_imports_with_django_absent():
    result = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "imported" in result.stdout
