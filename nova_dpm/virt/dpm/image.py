"""Booting a partition from a Glance ISO image.

DPM partitions boot either from an FCP volume (``storage.py``) or from an
ISO image uploaded to the partition ("Mount ISO Image").  For a server
created from an image, ``spawn`` calls, in this order:

1. :meth:`IsoBoot.check` before anything is created on the HMC: only
   ``disk_format=iso`` can be booted; anything else is refused with
   ``ImageUnacceptable``, which makes Nova fail the build at once instead
   of rescheduling it to a host that cannot boot it either;
2. :meth:`IsoBoot.prepare_boot` once the partition exists: fetch the image
   into the local cache (see ``image_source.py``), stream it from the file
   to the HMC (a file object, so images over 2 GB work), and set
   ``boot-device: iso-image``;
3. :meth:`IsoBoot.release` when the partition is destroyed or a spawn is
   rolled back: unmount the image (nothing mounted is fine).

The ``.ins`` file that tells the HMC how to load the ISO comes from the
image property ``dpm_ins_file``, else ``[dpm] default_ins_file``.
"""

from nova import exception
from oslo_log import log as logging

import nova_dpm.conf
from nova_dpm.hmc import cpc as cpc_mod
from nova_dpm.image import download
from nova_dpm.virt.dpm import image_source

LOG = logging.getLogger(__name__)
CONF = nova_dpm.conf.CONF

BOOTABLE_DISK_FORMAT = 'iso'
INS_FILE_PROPERTY = 'dpm_ins_file'


def glance_tls_verify(glance_conf):
    """``requests`` ``verify`` value matching Nova's ``[glance]`` options."""
    if glance_conf.insecure:
        return False
    return glance_conf.cafile or True


class ImageFetchFailure(exception.InstanceDeployFailure):
    """The ISO image could not be downloaded or verified (spawn rolls back).

    Its message is the downloader's, which names the image, the redacted
    URL, what went wrong and what to do; no "Failed to deploy" prefix,
    because spawn already says which step failed.
    """

    msg_fmt = '%(reason)s'


class IsoBoot(object):
    """Boots partitions from Glance ISO images.

    Constructing it reads ``[dpm]``/``[glance]`` and does no I/O.

    :param supervisor: ``nova_dpm.hmc.HMCSupervisor``
    :param settings: ``nova_dpm.hmc.HMCSettings``
    :param source: ``image_source.GlanceImageSource`` to use instead of
        one built from the configuration (tests)
    :param cpc: ``ManagedCpc`` to use instead of one built from
        ``supervisor`` and ``settings`` (tests)
    """

    def __init__(self, supervisor, settings, source=None, cpc=None):
        self._cpc = cpc or cpc_mod.ManagedCpc(
            supervisor, settings.cpc_object_id,
            status_timeout=settings.status_timeout,
            operation_timeout=settings.operation_timeout)
        if source is None:
            downloader = download.ImageDownloader(
                CONF.dpm.image_cache_dir,
                stall_timeout=CONF.dpm.image_stall_timeout,
                retries=CONF.dpm.image_download_retries,
                verify=glance_tls_verify(CONF.glance))
            source = image_source.GlanceImageSource(downloader)
        self._source = source
        self._default_ins_file = CONF.dpm.default_ins_file

    def check(self, image_meta):
        """Refuse, before any HMC change, an image that cannot boot.

        :param image_meta: ``nova.objects.ImageMeta`` of the server's image
        :raises ImageUnacceptable: not an ISO image
        :raises InvalidInput: no image at all
        """
        image_id = _field(image_meta, 'id')
        if image_meta is None or image_id is None:
            raise exception.InvalidInput(
                reason='the server has neither a boot volume nor an image; '
                       'create it from an ISO image or a bootable FCP '
                       'volume (boot_index 0)')
        disk_format = _field(image_meta, 'disk_format')
        if disk_format != BOOTABLE_DISK_FORMAT:
            shown = ('disk format %s' % disk_format if disk_format
                     else 'no disk format')
            raise exception.ImageUnacceptable(
                image_id=image_id,
                # Short: Nova keeps 255 characters of the fault message.
                reason='%s cannot boot: DPM boots only disk_format iso '
                       'images; boot from an FCP volume instead' % shown)

    def prepare_boot(self, context, instance, image_meta, partition_uri):
        """Fetch the ISO image, mount it and make it the boot device.

        :raises ImageFetchFailure: the image could not be downloaded or
            verified (an ``InstanceDeployFailure``)
        :raises InstanceDeployFailure: the HMC refused the upload
        """
        failure = exception.InstanceDeployFailure
        uuid = instance.uuid
        image = self._source.describe(context, image_meta.id)
        try:
            path = self._source.fetch(context, image)
        except download.DownloadError as exc:
            raise ImageFetchFailure(reason=str(exc)) from exc
        ins_file = image.properties.get(INS_FILE_PROPERTY) or \
            self._default_ins_file
        iso_name = '%s.iso' % image.id
        LOG.info('Mounting ISO image %(id)s (%(name)s, .ins file %(ins)s) '
                 'on partition %(uri)s',
                 {'id': image.id, 'name': image.name, 'ins': ins_file,
                  'uri': partition_uri}, instance=instance)
        with open(path, 'rb') as data:
            self._cpc.mount_iso(partition_uri, data, iso_name, ins_file,
                                failure, uuid)
        self._cpc.update_partition(partition_uri,
                                   {'boot-device': 'iso-image'},
                                   failure, uuid)

    def release(self, partition_uri):
        """Unmount the partition's ISO image, if it has one."""
        self._cpc.unmount_iso(partition_uri,
                              exception.InstanceTerminationFailure)


def _field(image_meta, name):
    """A field of ``ImageMeta`` (or a dict), None when unset."""
    if image_meta is None:
        return None
    if isinstance(image_meta, dict):
        return image_meta.get(name)
    if not image_meta.obj_attr_is_set(name):
        return None
    return getattr(image_meta, name)
