"""A pip-installed OpenStack cloud whose nova-compute runs the DPM driver.

Everything runs as plain processes tracked by PID (no systemd): MariaDB,
RabbitMQ, the HMC simulator, keystone, placement, glance, neutron's API,
nova-api, nova-conductor, nova-scheduler and nova-compute with
``compute_driver = dpm.DPMDriver``. ``run.py`` brings it up, runs tempest
against it and tears it down, also on failure or Ctrl-C.
"""
