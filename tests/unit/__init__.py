# Nova's unit test package applies Nova's monkey patching and registers
# Nova's objects; it must run before anything that could import eventlet.
import nova.tests.unit  # noqa: F401
