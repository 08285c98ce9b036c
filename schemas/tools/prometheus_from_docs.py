#!/usr/bin/env python3
"""Derives a schema from the configuration reference of Prometheus or Alertmanager.

Both write their reference by hand from the config structs (`config/config.go`,
`discovery/*/`, `common/config/http_config.go`) in one notation: `[ key: <type> ]` optional,
`key: <type>` required, `key:` + `[ - <block> ... ]` a list of a block, `[ <block> ]` the
block's keys inline; each block is a `### <name>` section with a yaml fence.

    git -C <clone> show v3.14.0:docs/configuration/configuration.md > /tmp/prom.md
    python3 schemas/tools/prometheus_from_docs.py prometheus /tmp/prom.md v3.14.0 3.0.0 4.0.0 > schemas/prometheus/3.json
    git -C <clone> show v0.34.0:docs/configuration.md > /tmp/am.md
    python3 schemas/tools/prometheus_from_docs.py alertmanager /tmp/am.md v0.34.0 0.28.0 0.35.0 > schemas/alertmanager/0.34.json
"""
import json, re, sys

OPTIONAL = re.compile(r'^\[ ?([A-Za-z0-9_]+) ?: (.*?) ?\]\s*$')
REQUIRED = re.compile(r'^([A-Za-z0-9_]+): (<.*|\[.*)$')
OBJECT = re.compile(r'^([A-Za-z0-9_]+):\s*$')
INCLUDE = re.compile(r'^\[ ?<([a-z0-9_]+)> ?\]$')
LIST_OF = re.compile(r"^\[? ?- ?'?<([a-z0-9_]+)>'?,? ?(\.\.\.)? ?\]?$")
MAP = re.compile(r'^\[ ?<(labelname|string|name)>: ?(.*?) ?(\.\.\.)? ?\]$')

STRINGS = {'file_name', 'string', 'secret', 'filename', 'filepath', 'filepath_glob', 'path', 'host', 'labelname', 'labelvalue',
           'regex', 'tmpl_string', 'tmpl_secret', 'scheme', 'job_name', 'url', 'relabel_action', 'mime_type',
           'time', 'weekday_range', 'month_range', 'days_of_month_range', 'year_range', 'time_range', 'location',
           'matcher', 'labelname_regex', 'region', 'http_method', 'idtoken', 'stage'}


def blocks(text, root_title):
    out, name, inside, lines, seen_root = {}, None, False, [], False
    for line in text.split('\n'):
        if inside:
            if line.strip() == '```':
                inside = False
                if name and name not in out:
                    out[name] = lines
            else:
                lines.append(line)
            continue
        m = re.match(r'^#{2,4} `?<([a-z0-9_]+)>`?', line)
        if m:
            name = m.group(1)
        elif line.startswith('## ') and not seen_root and root_title in line:
            name, seen_root = '<root>', True
        elif line.startswith('## ') or line.startswith('### '):
            name = None
        elif line.strip().startswith('```yaml') and name:
            inside, lines = True, []
    return out


def kind(t, names):
    t = t.split('|')[0].strip()
    while t.count(']') > t.count('[') and t.endswith(']'):
        t = t[:-1].rstrip()
    m = re.match(r'^\[ ?<([a-z_]+)>, ?\.\.\. ?\]$', t)
    if m:
        return {'kind': 'list', 'of': kind(f'<{m.group(1)}>', names)}
    if t.startswith("'[' <"):
        return {'kind': 'list', 'of': 'string'}
    m = re.match(r'^<([a-z0-9_]+)>', t)
    if not m:
        if t in ('true', 'false'):
            return 'bool'
        return {'kind': 'unchecked', 'note': f'the reference gives its type as `{t}`'}
    n = m.group(1)
    if n in ('duration',):
        return 'duration/prometheus'
    if n in ('boolean', 'bool'):
        return 'bool'
    if n in ('int', 'int64', 'uint64', 'uint'):
        return 'int'
    if n == 'float':
        return 'float'
    if n == 'size':
        return 'size'
    if n in names:
        return {'ref': n}
    if n in STRINGS or n.endswith('string'):
        return 'string'
    return {'kind': 'unchecked', 'note': f'the reference gives its type as `<{n}>`'}


def parse(lines, names):
    root = {'kind': 'object', 'keys': {}, 'required': []}
    stack = [(-1, root, None)]
    for raw in lines:
        s = raw.split(' # ')[0].rstrip() if not raw.strip().startswith('#') else ''
        s = s.strip()
        while s.count(']') > s.count('[') and s.endswith(']'):
            s = s[:-1].rstrip()
        if s.startswith('[') and s.count('[') > s.count(']'):
            s = s[1:].strip()  # `[ key:` opens an optional section closed lines later
        if m := re.match(r'^\[ ?([A-Za-z0-9_]+): <[a-z_]+> ?\] ?:$', s):
            s = m.group(1) + ':'  # `[ retention: <retention> ] :` opens its keys below
        if not s or s == '...' or s == ']':
            continue
        indent = len(raw) - len(raw.lstrip(' '))
        while stack[-1][0] >= indent:
            stack.pop()
        node, parent_key = stack[-1][1], stack[-1][2]
        if m := INCLUDE.match(s):
            node.setdefault('include', []).append(m.group(1))
        elif (m := LIST_OF.match(s)) and parent_key:
            stack[-2][1]['keys'][parent_key] = {'kind': 'list', 'of': kind(f'<{m.group(1)}>', names)}
        elif (m := MAP.match(s)) and parent_key:
            stack[-2][1]['keys'][parent_key] = {'kind': 'object', 'additional': kind(m.group(2), names)}
        elif m := OPTIONAL.match(s):
            node['keys'][m.group(1)] = kind(m.group(2), names)
        elif m := REQUIRED.match(s):
            node['keys'][m.group(1)] = kind(m.group(2), names)
            node['required'].append(m.group(1))
        elif m := OBJECT.match(s):
            child = {'kind': 'object', 'keys': {}, 'required': []}
            node['keys'][m.group(1)] = child
            stack.append((indent, child, m.group(1)))
        else:
            sys.stderr.write(f'skipped: {raw.strip()}\n')
    return root


# Keys upstream refuses to start without (its Validate / UnmarshalYAML code). The reference
# writes some optional keys without brackets too (`url` beside `url_file`), so only these
# are kept as required.
REQUIRED_KEYS = {
    'prometheus': {'scrape_config': ['job_name'], 'remote_write': ['url'], 'remote_read': ['url'],
                   'docker_sd_config': ['host'], 'dockerswarm_sd_config': ['host', 'role'],
                   'kubernetes_sd_config': ['role'], 'http_sd_config': ['url']},
    'alertmanager': {'receiver': ['name'], 'email_config': ['to'], 'time_interval': ['name'], '<root>': ['route']},
}


def prune_required(node, keep):
    if isinstance(node, dict):
        if 'required' in node:
            node['required'] = [k for k in node['required'] if k in keep]
            if not node['required']:
                del node['required']
        for v in node.get('keys', {}).values():
            prune_required(v, [])
        for k in ('of', 'additional'):
            if k in node:
                prune_required(node[k], [])


def settle(node, defs, depth=0):
    if not isinstance(node, dict):
        return node
    for k in ('of', 'additional'):
        if k in node:
            node[k] = settle(node[k], defs, depth)
    if 'keys' in node:
        node['keys'] = {k: settle(v, defs, depth) for k, v in node['keys'].items()}
    includes = node.pop('include', [])
    if includes and not node.get('keys') and len(includes) == 1:
        return {'ref': includes[0]}
    for inc in includes:
        inner = settle(json.loads(json.dumps(defs[inc])), defs, depth + 1)
        node['keys'] = {**inner.get('keys', {}), **node['keys']}
    if not node.get('required'):
        node.pop('required', None)
    return node


def main():
    what, path, tag, lo, hi = sys.argv[1:6]
    bl = blocks(open(path).read(), {'prometheus': 'Configuration file', 'alertmanager': 'File layout'}[what])
    names = set(bl) - {'<root>'}
    raw = {n: parse(l, names) for n, l in bl.items() if n != '<root>'}
    defs = {n: settle(json.loads(json.dumps(d)), raw) for n, d in sorted(raw.items())}
    root = settle(parse(bl['<root>'], names), raw)
    for n, d in defs.items():
        prune_required(d, REQUIRED_KEYS[what].get(n, []))
    prune_required(root, REQUIRED_KEYS[what].get('<root>', []))
    if what == 'alertmanager':
        # The reference misspells the root key `tracing` (config.go: yaml:"tracing"), and
        # its `<matcher>` section describes the matcher string, not a block.
        if 'traciing' in root['keys']:
            root['keys']['tracing'] = root['keys'].pop('traciing')
        text = json.dumps([defs, root]).replace('{"ref": "matcher"}', '"string"')
        defs, root = json.loads(text)
        defs.pop('matcher', None)
    repo = {'prometheus': 'prometheus/prometheus', 'alertmanager': 'prometheus/alertmanager'}[what]
    files = {
        'prometheus': ['docs/configuration/configuration.md', 'config/config.go', 'discovery/*/*.go (each SD config)',
                       'model/relabel/relabel.go', 'storage/remote/', 'vendor: prometheus/common config/http_config.go'],
        'alertmanager': ['docs/configuration.md', 'config/config.go', 'config/notifiers.go', 'timeinterval/timeinterval.go',
                         'vendor: prometheus/common config/http_config.go'],
    }[what]
    docs = {'prometheus': 'https://prometheus.io/docs/prometheus/latest/configuration/configuration/',
            'alertmanager': 'https://prometheus.io/docs/alerting/latest/configuration/'}[what]
    out = {
        'component': what,
        'versions': {'from': lo, 'below': hi},
        'source': {'repository': repo, 'tag': tag, 'files': files,
                   'derived': f'schemas/tools/prometheus_from_docs.py from the reference at the tag, then the hand edits in schemas/README.md'},
        'docs': docs,
        'defs': defs,
        'root': root,
    }
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write('\n')


main()
