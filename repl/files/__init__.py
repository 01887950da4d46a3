"""Files in and out of the server (``/upload``, ``/download``): the two routes a file can take
(:mod:`.routes`: Jupyter Server's contents API, or through a Python kernel where the server has
none) and the commands that pick one, expand globs, refuse to overwrite, show progress and leave
no half-written file behind (:mod:`.commands`). May import ``repl.gateway``, ``repl.protocol`` and
the kernel; not the UI."""
