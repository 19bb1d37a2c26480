"""Read a PETSc -options_file deck into a dict, as PETSc would (later values win).

Handles what sgm's decks use: '#' comments, one or more '-name value' pairs per line, bare flags
and nested '-options_file FILE' (relative paths are taken from the top source directory, which is
also where regression/run starts sgm).
"""
import os
import shlex


def read_options(path, srcdir, opts=None):
    opts = {} if opts is None else opts
    with open(path) as f:
        words = []
        for line in f:
            words += shlex.split(line.split("#", 1)[0])
    i = 0
    while i < len(words):
        name = words[i]
        if not name.startswith("-"):
            raise ValueError(f"{path}: expected an option name, got {name!r}")
        value = None
        if i + 1 < len(words) and not _is_option(words[i + 1]):
            value = words[i + 1]
            i += 1
        i += 1
        if name == "-options_file":
            sub = value if os.path.isabs(value) else os.path.join(srcdir, value)
            read_options(sub, srcdir, opts)
        else:
            opts[name.lstrip("-")] = value
    return opts


def _is_option(word):
    """'-5' and '-1.5' are values, '-seed' is an option."""
    if not word.startswith("-"):
        return False
    try:
        float(word)
        return False
    except ValueError:
        return True


def get_real(opts, name, default):
    v = opts.get(name)
    return default if v is None else float(v)


def get_int(opts, name, default):
    v = opts.get(name)
    return default if v is None else int(v)


def get_bool(opts, name):
    """PETSc: a bare flag or 'true'/'1'/'yes' is true."""
    if name not in opts:
        return False
    v = opts[name]
    return v is None or v.lower() in ("1", "true", "yes", "on")
