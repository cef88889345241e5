# Nova's functional test package applies Nova's monkey patching (native
# threads unless eventlet is asked for); it must run before anything that
# could import eventlet, so it comes first.
import nova.tests.functional  # noqa: F401
