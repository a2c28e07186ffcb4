#!/usr/bin/env bash
# The mediasoup-worker build recipe (called by scripts/mediasoup-worker.sh, which caches the result
# keyed by mediasoup version + the hash of THIS file). Builds from the npm tarball's worker/ sources
# with Debian's toolchain and libraries; see the header of mediasoup-worker.sh for why.
# In: MS_DIR (node_modules/mediasoup), BUILD (scratch dir), CACHE_ROOT, OUT (binary path), JOBS.
set -euo pipefail
T0=${T0:-$(date +%s)}
log() { echo "[mediasoup-worker +$(( $(date +%s) - T0 ))s] $*"; }

# ------------------------------------------------------------------ 1. Debian packages ----
# meson >= 1.1 is needed (bookworm has 1.0): it comes from bookworm-backports through a private
# source list, so the machine's /etc/apt stays untouched. ffmpeg feeds the media bench (RTP ingest).
PKGS=(build-essential pkg-config ninja-build libuv1-dev libssl-dev libsrtp2-dev libabsl-dev
      libflatbuffers-dev flatbuffers-compiler ffmpeg)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
meson_ok() { command -v meson >/dev/null && [ "$(printf '%s\n1.1.0\n' "$(meson --version)" | sort -V | head -1)" = 1.1.0 ]; }
meson_ok || missing+=(meson/bookworm-backports)
# The private source list is written every time: the libsrtp source package below needs it too.
[ "$(id -u)" = 0 ] || [ ${#missing[@]} -eq 0 ] || { log "need root to apt-get install: ${missing[*]}"; exit 1; }
APT_DIR=$CACHE_ROOT/apt
mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/none"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
MIRROR=$(grep -hoE '^URIs: *[^ ]+' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n 1 || true)
SECMIRROR=$(grep -hoE '^URIs: *[^ ]+' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep security | head -n 1 || true)
[ -n "$MIRROR" ] || MIRROR=$(awk '$1=="deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$SECMIRROR" ] || SECMIRROR=$(awk '$1=="deb" && $0 ~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$MIRROR" ] || { log "no Debian mirror configured in /etc/apt"; exit 1; }
{
  echo "deb [signed-by=$KEYRING] $MIRROR bookworm main"
  echo "deb [signed-by=$KEYRING] $MIRROR bookworm-updates main"
  [ -n "$SECMIRROR" ] && echo "deb [signed-by=$KEYRING] $SECMIRROR bookworm-security main"
  echo "deb [signed-by=$KEYRING] $MIRROR bookworm-backports main"
  echo "deb-src [signed-by=$KEYRING] $MIRROR bookworm main"
} > "$APT_DIR/sources.list"
APT_OPTS=(-o "Dir::Etc::SourceList=$APT_DIR/sources.list" -o "Dir::Etc::SourceParts=$APT_DIR/none"
          -o "Dir::State::Lists=$APT_DIR/lists")
apt-get "${APT_OPTS[@]}" update -qq
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
log "meson $(meson --version), flatc $(flatc --version | awk '{print $3}'), $(openssl version | awk '{print $1, $2}')"

# ------------------------------------------------------------------ 2. source tree ----
rm -rf "$BUILD"; mkdir -p "$BUILD"
cp -a "$MS_DIR/worker" "$BUILD/worker"

# libsrtp with OpenSSL's crypto, linked statically: Debian's libsrtp2 is built on NSS, which set
# up a crypto context per packet and took ~30 % of the worker's CPU in bench:media's profile.
# Built from Debian's own source package (the same 2.5.0 release), in seconds.
SRTP=$BUILD/libsrtp
( cd "$BUILD" && apt-get "${APT_OPTS[@]}" source --download-only -qq libsrtp2/bookworm >/dev/null 2>&1 \
  && tar xzf libsrtp2_*.orig.tar.gz && cd libsrtp-*/ \
  && ./configure --enable-openssl --prefix="$SRTP" CFLAGS="-O2 -fPIC" >/dev/null \
  && make -j"${JOBS:-$(nproc)}" libsrtp2.a >/dev/null && make install >/dev/null )
grep -q '#define OPENSSL 1' "$BUILD"/libsrtp-*/crypto/include/config.h || { log "libsrtp did not configure with OpenSSL"; exit 1; }
rm -f "$SRTP"/lib/*.so*
export PKG_CONFIG_PATH=$SRTP/lib/pkgconfig
log "libsrtp $(pkg-config --modversion libsrtp2) with OpenSSL crypto (static)"
SRC=$BUILD/worker
SP=$SRC/subprojects

F=$SRC/src/RTC/DtlsTransport.cpp
if grep -q '(operationType == BIO_CB_RETURN)' "$F"; then
  sed -i 's/(operationType == BIO_CB_RETURN)/((operationType \& BIO_CB_RETURN) != 0)/' "$F"
  log "applied the DTLS BIO fix (KTLS-enabled OpenSSL)"
fi

rm -f "$SP"/*.wrap
stub() { mkdir -p "$SP/$1"; echo '/* empty */' > "$SP/$1/stub.c"; cat > "$SP/$1/meson.build"; }
stub libuv <<'EOF'
project('libuv', 'c')
libuv_dep = dependency('libuv')
libuv = static_library('uv_stub', 'stub.c')
EOF
printf "option('build_tests', type: 'boolean', value: false)\noption('build_benchmarks', type: 'boolean', value: false)\n" > "$SP/libuv/meson_options.txt"
stub openssl <<'EOF'
project('openssl', 'c')
openssl_dep = dependency('openssl')
libcrypto_lib = static_library('crypto_stub', 'stub.c')
libssl_lib = static_library('ssl_stub', 'stub.c')
EOF
stub flatbuffers <<'EOF'
project('flatbuffers', 'c', 'cpp')
flatbuffers_dep = dependency('flatbuffers')
flatbuffers_lib = static_library('flatbuffers_stub', 'stub.c')
EOF
stub abseil-cpp <<'EOF'
project('abseil-cpp', 'c', 'cpp')
_deps = []
foreach _n : ['absl_flat_hash_map', 'absl_flat_hash_set', 'absl_inlined_vector',
              'absl_btree', 'absl_optional', 'absl_strings', 'absl_memory']
  _deps += dependency(_n)
endforeach
absl_container_dep = declare_dependency(dependencies: _deps)
absl_strings_dep = absl_container_dep
absl_types_dep = absl_container_dep
absl_container_lib = static_library('absl_stub', 'stub.c')
EOF
stub catch2 <<'EOF'
project('catch2', 'c')
catch2_dep = declare_dependency()
EOF

# ankerl::unordered_dense is not packaged by Debian: std::unordered_map/set with a mixing hash.
mkdir -p "$SP/ankerl-unordered-dense/include/ankerl"
printf '[wrap-file]\ndirectory = ankerl-unordered-dense\n\n[provide]\nunordered_dense = ankerl_unordered_dense_dep\n' > "$SP/unordered-dense.wrap"
cat > "$SP/ankerl-unordered-dense/meson.build" <<'EOF'
project('ankerl-unordered-dense', 'cpp', version: '4.8.1')
ankerl_unordered_dense_dep = declare_dependency(include_directories: include_directories('include'))
EOF
cat > "$SP/ankerl-unordered-dense/include/ankerl/unordered_dense.h" <<'EOF'
#ifndef LIVECART_UNORDERED_DENSE_SHIM_H
#define LIVECART_UNORDERED_DENSE_SHIM_H
#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
namespace ankerl {
namespace unordered_dense {
namespace detail {
inline std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64U);
}
} // namespace detail
template <class T, class Enable = void>
struct hash : std::hash<T> {};
template <class T>
struct hash<T, typename std::enable_if<std::is_integral<T>::value || std::is_enum<T>::value ||
                                       std::is_pointer<T>::value>::type> {
  using is_avalanching = void;
  std::uint64_t operator()(const T& obj) const noexcept {
    std::uint64_t v;
    if constexpr (std::is_pointer<T>::value)
      v = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(obj));
    else
      v = static_cast<std::uint64_t>(obj);
    return detail::mix(v, UINT64_C(0x9E3779B97F4A7C15));
  }
};
template <class Key, class T, class Hash = hash<Key>, class KeyEqual = std::equal_to<Key>,
          class Allocator = std::allocator<std::pair<const Key, T>>>
using map = std::unordered_map<Key, T, Hash, KeyEqual, Allocator>;
template <class Key, class Hash = hash<Key>, class KeyEqual = std::equal_to<Key>,
          class Allocator = std::allocator<Key>>
using set = std::unordered_set<Key, Hash, KeyEqual, Allocator>;
template <class Key, class T, class Hash = hash<Key>, class KeyEqual = std::equal_to<Key>,
          class Allocator = std::allocator<std::pair<const Key, T>>>
using segmented_map = std::unordered_map<Key, T, Hash, KeyEqual, Allocator>;
template <class Key, class Hash = hash<Key>, class KeyEqual = std::equal_to<Key>,
          class Allocator = std::allocator<Key>>
using segmented_set = std::unordered_set<Key, Hash, KeyEqual, Allocator>;
} // namespace unordered_dense
} // namespace ankerl
#endif
EOF

# mediasoup >= 3.16 calls the libsrtp 3 API; Debian has libsrtp2 2.5: a thin shim maps the subset.
mkdir -p "$SP/libsrtp3/include"
printf "option('crypto-library', type: 'string', value: '')\noption('crypto-library-kdf', type: 'string', value: '')\noption('tests', type: 'string', value: '')\n" > "$SP/libsrtp3/meson_options.txt"
cat > "$SP/libsrtp3/meson.build" <<'EOF'
project('libsrtp3', 'c')
_srtp2 = dependency('libsrtp2')
_srtp2_incdir = _srtp2.get_variable(pkgconfig: 'includedir') + '/srtp2'
libsrtp3 = static_library('srtp3_shim', 'srtp3_shim.c', c_args: ['-I' + _srtp2_incdir], dependencies: _srtp2)
libsrtp3_dep = declare_dependency(
  include_directories: include_directories('include'),
  compile_args: ['-idirafter', _srtp2_incdir],
  dependencies: _srtp2,
  link_with: libsrtp3,
)
EOF
cat > "$SP/libsrtp3/include/srtp.h" <<'EOF'
#ifndef LIVECART_SRTP3_SHIM_H
#define LIVECART_SRTP3_SHIM_H
#include <stddef.h>
#include <stdint.h>
#define srtp_policy_t srtp2_policy_t
#define srtp_create srtp2_create_
#define srtp_protect srtp2_protect_
#define srtp_unprotect srtp2_unprotect_
#define srtp_protect_rtcp srtp2_protect_rtcp_
#define srtp_unprotect_rtcp srtp2_unprotect_rtcp_
#include_next <srtp.h>
#undef srtp_policy_t
#undef srtp_create
#undef srtp_protect
#undef srtp_unprotect
#undef srtp_protect_rtcp
#undef srtp_unprotect_rtcp
#ifdef __cplusplus
extern "C" {
#endif
#define srtp_err_status_buffer_small ((srtp_err_status_t)28)
#define srtp_err_status_cryptex_err ((srtp_err_status_t)29)
typedef struct ms_srtp3_policy *srtp_policy_t;
srtp_err_status_t ms_srtp3_policy_create(srtp_policy_t *policy);
void ms_srtp3_policy_destroy(srtp_policy_t policy);
srtp_err_status_t ms_srtp3_policy_set_ssrc(srtp_policy_t policy, srtp_ssrc_t ssrc);
srtp_err_status_t ms_srtp3_policy_set_profile(srtp_policy_t policy, srtp_profile_t profile);
srtp_err_status_t ms_srtp3_policy_add_key(srtp_policy_t policy, const uint8_t *key, size_t key_len,
                                          const uint8_t *salt, size_t salt_len, const uint8_t *mki, size_t mki_len);
srtp_err_status_t ms_srtp3_policy_set_allow_repeat_tx(srtp_policy_t policy, int allow);
srtp_err_status_t ms_srtp3_policy_set_window_size(srtp_policy_t policy, size_t window_size);
srtp_err_status_t ms_srtp3_create(srtp_t *session, const srtp_policy_t policy);
srtp_err_status_t ms_srtp3_stream_remove(srtp_t session, uint32_t ssrc);
srtp_err_status_t ms_srtp3_protect(srtp_t ctx, const uint8_t *rtp, size_t rtp_len, uint8_t *srtp, size_t *srtp_len, size_t mki_index);
srtp_err_status_t ms_srtp3_unprotect(srtp_t ctx, const uint8_t *srtp, size_t srtp_len, uint8_t *rtp, size_t *rtp_len);
srtp_err_status_t ms_srtp3_protect_rtcp(srtp_t ctx, const uint8_t *rtcp, size_t rtcp_len, uint8_t *srtcp, size_t *srtcp_len, size_t mki_index);
srtp_err_status_t ms_srtp3_unprotect_rtcp(srtp_t ctx, const uint8_t *srtcp, size_t srtcp_len, uint8_t *rtcp, size_t *rtcp_len);
#define srtp_policy_create ms_srtp3_policy_create
#define srtp_policy_destroy ms_srtp3_policy_destroy
#define srtp_policy_set_ssrc ms_srtp3_policy_set_ssrc
#define srtp_policy_set_profile ms_srtp3_policy_set_profile
#define srtp_policy_add_key ms_srtp3_policy_add_key
#define srtp_policy_set_allow_repeat_tx ms_srtp3_policy_set_allow_repeat_tx
#define srtp_policy_set_window_size ms_srtp3_policy_set_window_size
#define srtp_create ms_srtp3_create
#define srtp_stream_remove ms_srtp3_stream_remove
#define srtp_protect ms_srtp3_protect
#define srtp_unprotect ms_srtp3_unprotect
#define srtp_protect_rtcp ms_srtp3_protect_rtcp
#define srtp_unprotect_rtcp ms_srtp3_unprotect_rtcp
#ifdef __cplusplus
}
#endif
#endif
EOF
cat > "$SP/libsrtp3/srtp3_shim.c" <<'EOF'
#include <srtp.h>
#include <stdlib.h>
#include <string.h>
struct ms_srtp3_policy {
  srtp_policy_t p;
  unsigned char key[SRTP_MAX_KEY_LEN + 32];
};
srtp_err_status_t ms_srtp3_policy_create(struct ms_srtp3_policy **policy) {
  struct ms_srtp3_policy *p = calloc(1, sizeof(*p));
  if (!p) return srtp_err_status_alloc_fail;
  p->p.key = p->key;
  p->p.next = NULL;
  *policy = p;
  return srtp_err_status_ok;
}
void ms_srtp3_policy_destroy(struct ms_srtp3_policy *policy) {
  if (policy) { memset(policy->key, 0, sizeof(policy->key)); free(policy); }
}
srtp_err_status_t ms_srtp3_policy_set_ssrc(struct ms_srtp3_policy *policy, srtp_ssrc_t ssrc) {
  if (!policy) return srtp_err_status_bad_param;
  policy->p.ssrc = ssrc;
  return srtp_err_status_ok;
}
srtp_err_status_t ms_srtp3_policy_set_profile(struct ms_srtp3_policy *policy, srtp_profile_t profile) {
  srtp_err_status_t err;
  if (!policy) return srtp_err_status_bad_param;
  err = srtp_crypto_policy_set_from_profile_for_rtp(&policy->p.rtp, profile);
  if (err != srtp_err_status_ok) return err;
  return srtp_crypto_policy_set_from_profile_for_rtcp(&policy->p.rtcp, profile);
}
srtp_err_status_t ms_srtp3_policy_add_key(struct ms_srtp3_policy *policy, const uint8_t *key, size_t key_len,
                                          const uint8_t *salt, size_t salt_len, const uint8_t *mki, size_t mki_len) {
  (void)mki;
  if (!policy || mki_len != 0 || key_len + salt_len > sizeof(policy->key)) return srtp_err_status_bad_param;
  memcpy(policy->key, key, key_len);
  memcpy(policy->key + key_len, salt, salt_len);
  return srtp_err_status_ok;
}
srtp_err_status_t ms_srtp3_policy_set_allow_repeat_tx(struct ms_srtp3_policy *policy, int allow) {
  if (!policy) return srtp_err_status_bad_param;
  policy->p.allow_repeat_tx = allow ? 1 : 0;
  return srtp_err_status_ok;
}
srtp_err_status_t ms_srtp3_policy_set_window_size(struct ms_srtp3_policy *policy, size_t window_size) {
  if (!policy) return srtp_err_status_bad_param;
  policy->p.window_size = window_size;
  return srtp_err_status_ok;
}
srtp_err_status_t ms_srtp3_create(srtp_t *session, struct ms_srtp3_policy *const policy) {
  return srtp_create(session, policy ? &policy->p : NULL);
}
srtp_err_status_t ms_srtp3_stream_remove(srtp_t session, uint32_t ssrc) {
  return srtp_remove_stream(session, ssrc);
}
/* libsrtp2 works in place on an int length: copy the input into the output buffer first. */
static srtp_err_status_t prep(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap, size_t need, int *len) {
  if (in_len > (size_t)0x7fffffff || out_cap < need) return (srtp_err_status_t)28;
  if (in != out) memmove(out, in, in_len);
  *len = (int)in_len;
  return srtp_err_status_ok;
}
srtp_err_status_t ms_srtp3_protect(srtp_t ctx, const uint8_t *rtp, size_t rtp_len, uint8_t *srtp, size_t *srtp_len, size_t mki_index) {
  int len; srtp_err_status_t err;
  (void)mki_index;
  if ((err = prep(rtp, rtp_len, srtp, *srtp_len, rtp_len + SRTP_MAX_TRAILER_LEN, &len))) return err;
  err = srtp_protect(ctx, srtp, &len);
  if (err == srtp_err_status_ok) *srtp_len = (size_t)len;
  return err;
}
srtp_err_status_t ms_srtp3_unprotect(srtp_t ctx, const uint8_t *srtp, size_t srtp_len, uint8_t *rtp, size_t *rtp_len) {
  int len; srtp_err_status_t err;
  if ((err = prep(srtp, srtp_len, rtp, *rtp_len, srtp_len, &len))) return err;
  err = srtp_unprotect(ctx, rtp, &len);
  if (err == srtp_err_status_ok) *rtp_len = (size_t)len;
  return err;
}
srtp_err_status_t ms_srtp3_protect_rtcp(srtp_t ctx, const uint8_t *rtcp, size_t rtcp_len, uint8_t *srtcp, size_t *srtcp_len, size_t mki_index) {
  int len; srtp_err_status_t err;
  (void)mki_index;
  if ((err = prep(rtcp, rtcp_len, srtcp, *srtcp_len, rtcp_len + SRTP_MAX_TRAILER_LEN + 4, &len))) return err;
  err = srtp_protect_rtcp(ctx, srtcp, &len);
  if (err == srtp_err_status_ok) *srtcp_len = (size_t)len;
  return err;
}
srtp_err_status_t ms_srtp3_unprotect_rtcp(srtp_t ctx, const uint8_t *srtcp, size_t srtcp_len, uint8_t *rtcp, size_t *rtcp_len) {
  int len; srtp_err_status_t err;
  if ((err = prep(srtcp, srtcp_len, rtcp, *rtcp_len, srtcp_len, &len))) return err;
  err = srtp_unprotect_rtcp(ctx, rtcp, &len);
  if (err == srtp_err_status_ok) *rtcp_len = (size_t)len;
  return err;
}
EOF

# ------------------------------------------------------------------ 3. build ----
cd "$SRC"
JOBS=${JOBS:-$(nproc)}
log "meson setup"
meson setup build --wrap-mode=nodownload --buildtype release -Db_ndebug=true >/dev/null
log "ninja -j$JOBS mediasoup-worker (the long part; progress below)"
# ninja prints [n/N] per compiled file: that is the visible progress.
ninja -C build -j"$JOBS" mediasoup-worker | grep --line-buffered -E '^\[[0-9]+/[0-9]+\]' | awk '{ if (NR % 20 == 0) { print "  " $1; fflush() } }'
mkdir -p "$(dirname "$OUT")"
install -m 0755 build/mediasoup-worker "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
if ldd "$OUT" | grep -q 'libsrtp2\.so'; then log "the worker links Debian's libsrtp2 instead of the OpenSSL build"; rm -f "$OUT"; exit 1; fi
log "built $OUT ($(ldd "$OUT" | grep -oE 'lib(uv|ssl|crypto|absl_[a-z_]*)\.so[.0-9a-z]*' | sort -u | tr '\n' ' '))"
