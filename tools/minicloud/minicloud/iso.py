"""A small, real ISO 9660 image with the .ins file the driver boots from.

The simulator does not boot what it is given, but glance inspects uploads
and the driver mounts the image on the HMC, so the image is a well-formed
ISO: ``/generic.ins`` (``[dpm] default_ins_file``) naming a kernel and an
initrd at their load addresses, as on a Linux on Z installation DVD.
"""

import io

INS = b"""* minicloud test image for nova-dpm (not bootable Linux)
/images/kernel.img 0x00000000
/images/initrd.img 0x02000000
/images/genericdvd.prm 0x00010480
"""


def build(path, size_kib=512):
    import pycdlib  # only the tempest environment installs it

    iso = pycdlib.PyCdlib()
    iso.new(joliet=3, vol_ident='NOVA_DPM_TEST')
    iso.add_directory('/IMAGES', joliet_path='/images')
    files = [
        ('/GENERIC.INS;1', '/generic.ins', INS),
        ('/IMAGES/KERNEL.IMG;1', '/images/kernel.img',
         b'\0' * (size_kib * 1024)),
        ('/IMAGES/INITRD.IMG;1', '/images/initrd.img', b'\0' * 4096),
        ('/IMAGES/GENERICD.PRM;1', '/images/genericdvd.prm',
         b'ro ramdisk_size=40000 cio_ignore=all,!condev\n'),
    ]
    for iso_path, joliet_path, data in files:
        iso.add_fp(io.BytesIO(data), len(data), iso_path,
                   joliet_path=joliet_path)
    iso.write(path)
    iso.close()
    return path
