"""The child process that owns a live session and runs user code."""
