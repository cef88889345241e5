# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""A private CA and server certificate for the simulated HMC.

zhmcclient always speaks HTTPS, and nova-dpm is meant to run with
certificate verification on. The simulator therefore keeps a CA in its state
directory (so a client that trusts it keeps working across restarts) and a
server certificate whose SANs cover every listen address plus localhost.
Existing files are reused while they are valid; a server certificate that
does not cover the current addresses is re-issued by the same CA.
"""

import datetime
import ipaddress
import os

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography import x509
from cryptography.x509.oid import NameOID

CA_CERT_FILE = 'ca.pem'
CA_KEY_FILE = 'ca-key.pem'
SERVER_CERT_FILE = 'server.pem'
SERVER_KEY_FILE = 'server-key.pem'

_CA_LIFETIME = datetime.timedelta(days=3650)
_SERVER_LIFETIME = datetime.timedelta(days=365)
# Certificates closer than this to expiry are replaced at start.
_RENEW_MARGIN = datetime.timedelta(days=1)


class CertificateFiles(object):
    """Paths of the CA certificate and the server certificate/key."""

    def __init__(self, state_dir):
        self.ca_cert = os.path.join(state_dir, CA_CERT_FILE)
        self.ca_key = os.path.join(state_dir, CA_KEY_FILE)
        self.server_cert = os.path.join(state_dir, SERVER_CERT_FILE)
        self.server_key = os.path.join(state_dir, SERVER_KEY_FILE)


def ensure_certificates(state_dir, hosts):
    """Return CertificateFiles valid for ``hosts``, creating what is missing.

    Raises OSError when the state directory cannot be written.
    """
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    files = CertificateFiles(state_dir)
    ca = _load_valid_ca(files)
    if ca is None:
        ca = _create_ca(files)
        _create_server_cert(files, ca, hosts)
    elif not _server_cert_valid(files, ca, hosts):
        _create_server_cert(files, ca, hosts)
    return files


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _read(path):
    with open(path, 'rb') as f:
        return f.read()


def _write(path, data, private):
    """Write atomically; private files are created with mode 0600."""
    tmp = path + '.tmp'
    mode = 0o600 if private else 0o644
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, 'wb') as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _fresh(cert):
    now = _now()
    return (cert.not_valid_before_utc <= now and
            cert.not_valid_after_utc - _RENEW_MARGIN > now)


def _load_valid_ca(files):
    """Return (cert, key) of a usable existing CA, else None."""
    try:
        cert = x509.load_pem_x509_certificate(_read(files.ca_cert))
        key = serialization.load_pem_private_key(
            _read(files.ca_key), password=None)
    except (OSError, ValueError, TypeError):
        return None
    if not _fresh(cert) or cert.public_key() != key.public_key():
        return None
    return cert, key


def _subject_alt_names(hosts):
    names = [x509.DNSName('localhost')]
    seen = {'localhost'}
    for host in list(hosts) + ['127.0.0.1']:
        if host in seen:
            continue
        seen.add(host)
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def _server_cert_valid(files, ca, hosts):
    ca_cert, _ = ca
    try:
        cert = x509.load_pem_x509_certificate(_read(files.server_cert))
        key = serialization.load_pem_private_key(
            _read(files.server_key), password=None)
        cert.verify_directly_issued_by(ca_cert)
        san = cert.extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value
    except (OSError, ValueError, TypeError, InvalidSignature,
            x509.ExtensionNotFound):
        return False
    wanted = set(_subject_alt_names(hosts))
    return (_fresh(cert) and cert.public_key() == key.public_key() and
            wanted <= set(san))


def _key_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())


def _create_ca(files):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'nova-dpm'),
        x509.NameAttribute(NameOID.COMMON_NAME, 'nova-dpm HMC simulator CA'),
    ])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0),
                       critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(
            key.public_key()), critical=False)
        .sign(key, hashes.SHA256()))
    _write(files.ca_key, _key_pem(key), private=True)
    _write(files.ca_cert, cert.public_bytes(serialization.Encoding.PEM),
           private=False)
    return cert, key


def _create_server_cert(files, ca, hosts):
    ca_cert, ca_key = ca
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'nova-dpm'),
            x509.NameAttribute(NameOID.COMMON_NAME, 'HMC simulator'),
        ]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(min(now + _SERVER_LIFETIME,
                             ca_cert.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName(
            _subject_alt_names(hosts)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                       critical=True)
        .add_extension(x509.ExtendedKeyUsage(
            [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256()))
    _write(files.server_key, _key_pem(key), private=True)
    _write(files.server_cert, cert.public_bytes(serialization.Encoding.PEM),
           private=False)
