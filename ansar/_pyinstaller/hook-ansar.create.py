# ansar.create imports most of its modules on first use; list them all for the build.
from PyInstaller.utils.hooks import collect_submodules

hiddenimports = collect_submodules("ansar.create") + ["msgspec", "msgspec.json", "filelock", "psutil"]
