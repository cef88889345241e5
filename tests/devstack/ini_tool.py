r"""Edit and read ini files the way devstack's inc/ini-config does.

The dry run of the devstack plugin replaces devstack's ``iniset`` family
with this helper so that the nova.conf it writes can be read back, repeated
lines of multi-valued options included (``configparser`` keeps only the last
of repeated keys, so it cannot read them back). Standard library only: the
check must run with nothing but bash and python3.

Usage::

    ini_tool.py set FILE SECTION OPTION VALUE
    ini_tool.py set-multiline FILE SECTION OPTION VALUE...
    ini_tool.py add FILE SECTION OPTION VALUE...
    ini_tool.py delete FILE SECTION OPTION
    ini_tool.py get FILE SECTION OPTION       (first value; exit 1 if none)
    ini_tool.py get-all FILE SECTION OPTION   (one value per line)
    ini_tool.py options FILE SECTION          (option names, sorted)
    ini_tool.py dump FILE                     (SECTION<tab>OPTION<tab>VALUE)
    ini_tool.py batch QUEUE                   (apply queued edits)

A batch QUEUE holds edits as NUL separated fields, each edit starting with
its number of fields: ``5\0set\0FILE\0SECTION\0OPTION\0VALUE\0`` is
``set FILE SECTION OPTION VALUE`` (the count excludes itself). Batching
keeps the dry run fast: one interpreter start for all edits of a phase.
"""

import os
import re
import sys

SECTION_RE = re.compile(r'^\[(?P<name>[^\]]+)\]\s*$')
OPTION_RE = re.compile(r'^(?P<name>[^#;\s=][^=]*?)\s*=\s?(?P<value>.*)$')


class IniFile(object):
    """The lines of one ini file, edited in place and kept in order."""

    def __init__(self, path):
        self.path = path
        self.lines = []
        if os.path.exists(path):
            with open(path) as f:
                self.lines = f.read().splitlines()

    def save(self):
        tmp = self.path + '.tmp'
        with open(tmp, 'w') as f:
            f.write('\n'.join(self.lines) + '\n')
        os.replace(tmp, self.path)

    def _section_span(self, section):
        """(header index, end index) of section, or None."""
        start = None
        for index, line in enumerate(self.lines):
            match = SECTION_RE.match(line)
            if not match:
                continue
            if start is not None:
                return start, index
            if match.group('name') == section:
                start = index
        return None if start is None else (start, len(self.lines))

    def _option_indexes(self, section, option):
        span = self._section_span(section)
        if span is None:
            return []
        return [index for index in range(span[0] + 1, span[1])
                if self._option_of(self.lines[index]) == option]

    @staticmethod
    def _option_of(line):
        match = OPTION_RE.match(line)
        return match.group('name') if match else None

    def _ensure_section(self, section):
        if self._section_span(section) is None:
            self.lines.extend(['', '[%s]' % section])
        return self._section_span(section)

    def get_all(self, section, option):
        return [OPTION_RE.match(self.lines[index]).group('value')
                for index in self._option_indexes(section, option)]

    def options(self, section):
        span = self._section_span(section)
        if span is None:
            return []
        names = (self._option_of(line)
                 for line in self.lines[span[0] + 1:span[1]])
        return sorted(set(name for name in names if name))

    def dump(self, out):
        """Write every value as one "SECTION<tab>OPTION<tab>VALUE" line."""
        section = ''
        for line in self.lines:
            header = SECTION_RE.match(line)
            if header:
                section = header.group('name')
                continue
            match = OPTION_RE.match(line)
            if match:
                out.write('%s\t%s\t%s\n' % (
                    section, match.group('name'), match.group('value')))

    def delete(self, section, option):
        for index in reversed(self._option_indexes(section, option)):
            del self.lines[index]

    def set(self, section, option, value):
        """Replace the first value, or add the option after the header."""
        indexes = self._option_indexes(section, option)
        line = '%s = %s' % (option, value)
        if indexes:
            self.lines[indexes[0]] = line
        else:
            header = self._ensure_section(section)[0]
            self.lines.insert(header + 1, line)

    def set_multiline(self, section, option, values):
        """Replace every line of option with one line per value."""
        self.delete(section, option)
        header = self._ensure_section(section)[0]
        for offset, value in enumerate(values, start=1):
            self.lines.insert(header + offset,
                              '%s = %s' % (option, value))

    def add(self, section, option, values):
        """Keep the present values and append more lines."""
        self.set_multiline(section, option,
                           self.get_all(section, option) + list(values))


EDITS = {
    'set': lambda ini, section, option, values: ini.set(
        section, option, ' '.join(values)),
    'set-multiline': lambda ini, section, option, values: ini.set_multiline(
        section, option, values),
    'add': lambda ini, section, option, values: ini.add(
        section, option, values),
    'delete': lambda ini, section, option, values: ini.delete(
        section, option),
}


def read_queue(path):
    """The edits of a batch queue as lists of fields, in order."""
    with open(path, 'rb') as f:
        fields = f.read().decode('utf-8').split('\0')
    edits = []
    index = 0
    while index < len(fields) - 1:
        count = int(fields[index])
        edits.append(fields[index + 1:index + 1 + count])
        index += 1 + count
    return edits


def apply_batch(queue):
    files = {}
    for edit in read_queue(queue):
        command, path, section, option, values = (
            edit[0], edit[1], edit[2], edit[3], edit[4:])
        if command not in EDITS:
            raise SystemExit('unknown edit %r in %s' % (command, queue))
        ini = files.setdefault(path, IniFile(path))
        EDITS[command](ini, section, option, values)
    for ini in files.values():
        ini.save()


def main(argv):
    if len(argv) == 2 and argv[0] == 'batch':
        apply_batch(argv[1])
        return 0
    if len(argv) == 2 and argv[0] == 'dump':
        IniFile(argv[1]).dump(sys.stdout)
        return 0
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    command, path, section = argv[0], argv[1], argv[2]
    rest = argv[3:]
    ini = IniFile(path)
    if command == 'options':
        print('\n'.join(ini.options(section)))
        return 0
    if not rest:
        sys.stderr.write('%s needs an option name\n' % command)
        return 2
    option, values = rest[0], rest[1:]
    if command in ('get', 'get-all'):
        found = ini.get_all(section, option)
        if not found:
            return 1
        print(found[0] if command == 'get' else '\n'.join(found))
        return 0
    if command not in EDITS:
        sys.stderr.write('unknown command %r\n' % command)
        return 2
    EDITS[command](ini, section, option, values)
    ini.save()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
