"""A word-mapping service on TCP: each word received is answered with its mapping.

The map is ``word-map.json`` in the role's model folder (``ar.model_folder()``);
a word with no mapping is echoed. As a tool there is no model folder and every
word comes straight back. For demonstration only: blocking sockets, no framing.
"""

import socket

import ansar.create as ar

POLL = 0.25  # how often blocked sockets look at self.halted


class Settings(object):
    def __init__(self, host='127.0.0.1', port=65432):
        self.host = host
        self.port = port


ar.bind(Settings, object_schema={'host': str, 'port': int})


def load_word_map(self):
    """The role's word map as a dict of bytes; empty when there is none."""
    folder = ar.model_folder()
    if folder is None:
        return {}
    try:
        word_map, _ = folder.file('word-map', ar.MapOf(ar.String, ar.String)).recover()
    except ar.FileNotFound:
        return {}
    self.console(f'Loaded {len(word_map)} words')
    return word_map


def accepted(self, connection, address, word_map):
    """Answer the words arriving on one connection until it closes."""
    self.console(f'Accepted on {address}')
    connection.settimeout(POLL)
    with connection:
        while not self.halted:
            try:
                word = connection.recv(1024)
            except socket.timeout:
                continue
            except OSError as e:
                self.warning(f'Connection error - "{e}"')
                break
            if not word:
                break
            connection.sendall(word_map.get(word, word))
    return ar.Ack()


ar.bind(accepted)


def listen(self, settings, word_map):
    """Accept connections until halted; each one gets an ``accepted`` object."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((settings.host, settings.port))
        except OSError as e:
            return ar.Faulted(condition=f'cannot listen on {settings.host}:{settings.port}',
                              explanation=str(e))
        s.listen()
        s.settimeout(POLL)
        self.console(f'Listening on {s.getsockname()}')
        while not self.halted:
            try:
                connection, address = s.accept()
            except socket.timeout:
                continue
            a = self.create(accepted, connection, address, word_map)
            self.assign(a, address)

    for _, a in self.running():
        ar.halt(a)
    while self.working():
        self.select(ar.Completed)
        self.debrief()
    return ar.Aborted()


ar.bind(listen)


def server(self, settings):
    word_map = load_word_map(self)
    listener = self.create(listen, settings, word_map)
    m = self.select(ar.Completed, ar.Stop)
    if isinstance(m, ar.Completed):
        return m.value  # could not listen
    ar.halt(listener)
    self.select(ar.Completed)
    return ar.Aborted()


ar.bind(server)

factory_settings = Settings()

if __name__ == '__main__':
    ar.create_object(server, factory_settings=factory_settings)
