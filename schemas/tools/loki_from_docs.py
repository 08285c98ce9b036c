#!/usr/bin/env python3
"""Derives schemas/loki/<range>.json from Loki's generated configuration reference.

Loki's `docs/sources/shared/configuration.md` is written by `tools/doc-generator` from the
config structs, so every key, its type and its default come from the Go code at the tag.

    git -C <loki clone> show v3.7.6:docs/sources/shared/configuration.md > /tmp/loki.md
    python3 schemas/tools/loki_from_docs.py /tmp/loki.md v3.7.6 3.7.0 3.8.0 > schemas/loki/3.7.json
"""
import json, re, sys

LEAF = re.compile(r'^\[([A-Za-z0-9_]*): (<.*?>)(?: \| default = (.*))?\]$')
INCLUDE = re.compile(r'^\[<([a-z0-9_]+)>\]$')
OBJECT = re.compile(r'^([A-Za-z0-9_]+):$')


def blocks(text):
    """### name -> lines of its yaml fence."""
    out, name, inside, lines = {}, None, False, []
    for line in text.split('\n'):
        if inside:
            if line.strip() == '```':
                inside = False
                out[name] = lines  # the last fence: an example may come first
            else:
                lines.append(line)
            continue
        if line.startswith('### '):
            name = line[4:].strip()
            if name.startswith('Supported contents'):
                name = '<root>'
        elif line.startswith('## ') or line.startswith('# '):
            name = None
        elif line.strip() == '```yaml' and name:
            inside, lines = True, []
    return out


def kind(placeholder, key, default, names):
    t = placeholder[1:-1]
    if t == 'string' or t in ('url', 'time', 'daytime', 'headers'):
        return 'string'
    if t == 'boolean':
        return 'bool'
    if t == 'float':
        return 'float'
    if t == 'int':
        unit = default is not None and re.search(r'[0-9](B|KB|MB|GB|TB|KiB|MiB|GiB)$', default)
        return 'size' if unit or 'size' in key or 'bytes' in key else 'int'
    if t == 'duration':
        return 'duration/either'
    if t == 'list of strings':
        return {'kind': 'list', 'of': 'string'}
    if t in names:
        return {'ref': t}
    m = re.match(r'^list of (\w+?)s$', t)
    if m and m.group(1) in names:
        return {'kind': 'list', 'of': {'ref': m.group(1)}}
    m = re.match(r'^map of string to (.+)$', t)
    if m:
        inner = m.group(1)
        if inner in ('string', 'strings'):
            return {'kind': 'object', 'additional': 'string'}
        if inner == 'list of strings':
            return {'kind': 'object', 'additional': {'kind': 'list', 'of': 'string'}}
        if inner in names:
            return {'kind': 'object', 'additional': {'ref': inner}}
    return {'kind': 'unchecked', 'note': f'the reference gives its type only as `{placeholder}`'}


def parse(lines, names):
    root = {'kind': 'object', 'keys': {}}
    stack = [(-1, root)]
    for raw in lines:
        s = raw.strip()
        if not s or s.startswith('#'):
            continue
        indent = len(raw) - len(raw.lstrip(' '))
        while stack[-1][0] >= indent:
            stack.pop()
        node = stack[-1][1]
        if m := LEAF.match(s):
            key, placeholder, default = m.groups()
            k = kind(placeholder, key, default, names)
            if key:
                node['keys'][key] = k
            else:  # `[: <map of string to X>]`: the enclosing key is that map
                node['additional'] = k.get('additional', k) if isinstance(k, dict) else k
        elif m := INCLUDE.match(s):
            node.setdefault('include', []).append(m.group(1))
        elif m := OBJECT.match(s):
            child = {'kind': 'object', 'keys': {}}
            node['keys'][m.group(1)] = child
            stack.append((indent, child))
        else:
            raise SystemExit(f'unparsed line: {raw!r}')
    return root


def settle(node, defs):
    """Objects that include a block: a reference when that is all they are, else the
    block's keys merged in."""
    if not isinstance(node, dict):
        return node
    for k in ('of', 'additional'):
        if k in node:
            node[k] = settle(node[k], defs)
    if 'keys' in node:
        node['keys'] = {k: settle(v, defs) for k, v in node['keys'].items()}
    includes = node.pop('include', [])
    if includes and not node.get('keys') and len(includes) == 1:
        return {'ref': includes[0]}
    for inc in includes:
        node['keys'] = {**settle(json.loads(json.dumps(defs[inc])), defs)['keys'], **node['keys']}
    return node


def main():
    path, tag, lo, hi = sys.argv[1:5]
    text = open(path).read()
    bl = blocks(text)
    names = set(bl) - {'<root>'}
    defs = {n: parse(l, names) for n, l in bl.items() if n != '<root>'}
    root = parse(bl['<root>'], names)
    defs = {n: settle(d, defs) for n, d in sorted(defs.items())}
    root = settle(root, defs)
    minor = '.'.join(tag.lstrip('v').split('.')[:2])
    out = {
        'component': 'loki',
        'versions': {'from': lo, 'below': hi},
        'source': {
            'repository': 'grafana/loki',
            'tag': tag,
            'files': ['docs/sources/shared/configuration.md (generated from the structs by tools/doc-generator)',
                      'pkg/loki/config_wrapper.go', 'pkg/validation/limits.go', 'pkg/compactor/config.go',
                      'pkg/storage/config/schema_config.go'],
            'derived': 'schemas/tools/loki_from_docs.py from the configuration reference at the tag',
        },
        'docs': f'https://grafana.com/docs/loki/v{minor}.x/configure/',
        'note': 'Durations are `duration/either`: the reference writes `<duration>` for Go and Prometheus durations alike.',
        'defs': defs,
        'root': root,
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write('\n')


main()
