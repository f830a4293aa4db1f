"""mlcore: the recommendation and search engine, free of any web framework.

It takes plain data (pandas frames, numpy arrays, files) and writes artifacts
to folders. See ``python -m mlcore --help``.
"""
__version__ = "0.1.0"
