#!/usr/bin/env bash
# Builds the container images the Docker tests use, with `docker import`, from binaries of
# Debian packages installed on this machine: no registry is reachable from the test
# machines, so nothing can be pulled.
#
#   obsbuild-test/busybox:1.35.0        busybox-static, its applets, /tmp, /etc/passwd
#   obsbuild-test/prometheus:2.42.0     prometheus, its libraries and web assets, busybox
#                                       (for wget in health checks)
#   obsbuild-test/alertmanager:0.25.0   prometheus-alertmanager, its libraries, templates
#                                       and web assets, busybox
#
# Prometheus and Alertmanager are laid out like their upstream images (entrypoint, default
# flags, working directory, user nobody) so that what passes here passes there.
#
# Idempotent and fast when the images exist: each image carries a label with the hash of
# its inputs (the recipe in this file and the bytes of every file copied in) and is
# rebuilt only when that hash changed. A freshly built image is run once to check it works.
# Runs under a lock, so concurrent test processes build each image once.
set -euo pipefail

LABEL=obsbuild.test.inputs
# Owner of the data directories, as upstream: `nobody`.
NOBODY=65534

die() {
  echo "tests/images.sh: $*" >&2
  exit 1
}

command -v docker >/dev/null || die "the docker command is missing; the Docker tests need a Docker engine and its client"
docker version --format '{{.Server.APIVersion}}' >/dev/null 2>&1 \
  || die "cannot reach the Docker engine (docker version failed); is it running, and may this user use its socket?"

# A Debian package must be installed, at the version the image's tag promises.
require_package() { # package, file it provides, upstream version of the tag
  local package=$1 file=$2 want=$3 status version
  status=$(dpkg-query -W -f '${db:Status-Status}' "$package" 2>/dev/null || true)
  [ "$status" = installed ] && [ -e "$file" ] \
    || die "the Debian package \`$package\` (it provides $file) is not installed; install it (apt-get install $package, or bash tests/run.sh which installs tests/packages.txt)"
  version=$(dpkg-query -W -f '${Version}' "$package")
  version=${version#*:}   # epoch
  version=${version%%[-+~]*} # Debian revision, repack suffix
  [ "$version" = "$want" ] \
    || die "the Debian package \`$package\` is version $version, but the test image is tagged $want; update the tag in tests/images.sh and the tests"
}

require_package busybox-static /bin/busybox 1.35.0
require_package prometheus /usr/bin/prometheus 2.42.0
require_package prometheus-alertmanager /usr/bin/prometheus-alertmanager 0.25.0

lock=${TMPDIR:-/tmp}/obsbuild-test-images.lock
exec 9>"$lock"
flock -w 600 9 || die "waited 10 minutes for $lock"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- root file system pieces ------------------------------------------------------------

# busybox and a symlink per applet in /bin.
add_busybox() { # root
  local root=$1 applet
  mkdir -p "$root/bin" "$root/tmp" "$root/etc"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
}

# The shared libraries a binary loads (none for a static one).
libraries() { # binary
  ldd "$1" 2>/dev/null | grep -o '/[^ ]*' || true
}

# A binary and the shared libraries `ldd` says it loads, at the same paths.
add_binary() { # root, source, target path inside
  local root=$1 source=$2 target=$3 lib
  mkdir -p "$root$(dirname "$target")"
  cp "$source" "$root$target"
  for lib in $(libraries "$source"); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

# A folder of data files the package installs, at the same path (Debian's builds look for
# their web assets and templates under /usr/share/prometheus).
add_tree() { # root, folder
  mkdir -p "$1$(dirname "$2")"
  cp -R "$2" "$1$2"
}

# The files an image is made of, for the input hash: path and content hash of each file
# (of each file under a folder), with the libraries of binaries.
hash_inputs() { # recipe function, files and folders...
  local recipe=$1
  shift
  {
    declare -f "$recipe" add_busybox add_binary add_tree pack build
    local file
    for file in "$@"; do
      if [ -d "$file" ]; then
        find "$file" -type f -print0 | sort -z | xargs -0 -r sha256sum
      else
        sha256sum "$file" $(libraries "$file")
      fi
    done
  } | sha256sum | cut -c1-32
}

# Packs `root` into a tarball, owned by root, the listed directories by nobody.
pack() { # root, tarball, directories owned by nobody...
  local root=$1 tarball=$2
  shift 2
  local excludes=() dir
  for dir in "$@"; do excludes+=(--exclude "./$dir"); done
  tar -C "$root" --numeric-owner --owner=0 --group=0 --anchored "${excludes[@]}" -cf "$tarball" .
  for dir in "$@"; do
    tar -C "$root" --numeric-owner --owner=$NOBODY --group=$NOBODY -rf "$tarball" "./$dir"
  done
}

# --- recipes: each fills a root, sets `changes` (docker import --change arguments) and
# `owned_by_nobody` (directories for the data) -------------------------------------------

recipe_busybox() { # root
  add_busybox "$1"
  changes=(--change 'CMD ["/bin/sh"]')
}

recipe_prometheus() { # root
  local root=$1
  add_busybox "$root"
  add_binary "$root" /usr/bin/prometheus /bin/prometheus
  add_tree "$root" /usr/share/prometheus/web
  mkdir -p "$root/prometheus" "$root/etc/prometheus"
  cat >"$root/etc/prometheus/prometheus.yml" <<'EOF'
global:
  scrape_interval: 15s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["localhost:9090"]
EOF
  owned_by_nobody=(prometheus)
  changes=(
    --change 'ENTRYPOINT ["/bin/prometheus"]'
    --change 'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]'
    --change 'WORKDIR /prometheus'
    --change 'USER nobody'
    --change 'EXPOSE 9090'
  )
}

recipe_alertmanager() { # root
  local root=$1
  add_busybox "$root"
  add_binary "$root" /usr/bin/prometheus-alertmanager /bin/alertmanager
  add_tree "$root" /usr/share/prometheus/alertmanager
  mkdir -p "$root/alertmanager" "$root/etc/alertmanager"
  cat >"$root/etc/alertmanager/alertmanager.yml" <<'EOF'
route:
  receiver: default
receivers:
  - name: default
EOF
  owned_by_nobody=(alertmanager)
  changes=(
    --change 'ENTRYPOINT ["/bin/alertmanager"]'
    --change 'CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]'
    --change 'WORKDIR /alertmanager'
    --change 'USER nobody'
    --change 'EXPOSE 9093'
  )
}

# --- build ---------------------------------------------------------------------------------

build() { # image, recipe, files hashed..., --, check command (arguments of docker run)
  local image=$1 recipe=$2
  shift 2
  local files=()
  while [ "$1" != -- ]; do files+=("$1"); shift; done
  shift
  local inputs current root output
  inputs=$(hash_inputs "$recipe" "${files[@]}")
  current=$(docker image inspect --format "{{index .Config.Labels \"$LABEL\"}}" "$image" 2>/dev/null || true)
  if [ "$current" = "$inputs" ]; then
    return
  fi
  echo "tests/images.sh: building $image" >&2
  local previous
  previous=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
  root="$work/$recipe"
  mkdir -p "$root"
  changes=()
  owned_by_nobody=()
  "$recipe" "$root"
  pack "$root" "$work/$recipe.tar" "${owned_by_nobody[@]}"
  docker import "${changes[@]}" --change "LABEL $LABEL=$inputs" \
    --message "obsbuild test image, built by tests/images.sh" "$work/$recipe.tar" "$image" >/dev/null
  # A fresh image must run; a broken one is removed so that the next run rebuilds it.
  if ! output=$(timeout 60 docker run --rm --network none "$image" "$@" 2>&1); then
    docker image rm "$image" >/dev/null 2>&1 || true
    die "$image does not run (docker run $image $*):"$'\n'"$output"
  fi
  # The image it replaces would linger untagged (kept if a container still uses it).
  if [ -n "$previous" ]; then
    docker image rm "$previous" >/dev/null 2>&1 || true
  fi
}

build obsbuild-test/busybox:1.35.0 recipe_busybox /bin/busybox \
  -- sh -c 'test -x /bin/httpd && test -x /bin/wget && test -d /tmp && echo ok'
build obsbuild-test/prometheus:2.42.0 recipe_prometheus /bin/busybox /usr/bin/prometheus /usr/share/prometheus/web \
  -- --version
build obsbuild-test/alertmanager:0.25.0 recipe_alertmanager /bin/busybox /usr/bin/prometheus-alertmanager \
  /usr/share/prometheus/alertmanager \
  -- --version
