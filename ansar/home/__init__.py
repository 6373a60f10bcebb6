"""The home: the persistent description of a group of processes, kept on disk.

``ansar.command`` reads and changes homes through this package only. It never prints and never
parses a command line; every problem is a ``HomeError`` (``BadValue`` when the user gave something
unacceptable) whose text is one line naming the role, file or value.
"""

from ansar.create._role import FOLDER_KINDS, REDIRECT_KINDS, HomeError, RoleContext, RoleRecord

from ._executable import Encoding, check_document, dump_input, dump_settings
from ._home import DEFAULT_HOME, Home, create_home, open_existing_home
from ._names import DEFAULT_TEMPLATE, BadValue, Search, check_name, expand_template
from ._properties import PROPERTIES, decode_property, encode_property, get_property
from ._running import PID_UNKNOWN, is_running, stop_role

__all__ = [
    "DEFAULT_HOME",
    "DEFAULT_TEMPLATE",
    "FOLDER_KINDS",
    "PID_UNKNOWN",
    "PROPERTIES",
    "REDIRECT_KINDS",
    "BadValue",
    "Encoding",
    "Home",
    "HomeError",
    "RoleContext",
    "RoleRecord",
    "Search",
    "check_document",
    "check_name",
    "create_home",
    "decode_property",
    "dump_input",
    "dump_settings",
    "encode_property",
    "expand_template",
    "get_property",
    "is_running",
    "open_existing_home",
    "stop_role",
]
