# Sourced by ./apiary and ./run-tests: exports JAVA_HOME for a JDK >= 21.
# The machine's default java may be older (Debian 12 ships 17), so look in the usual places.
apiary_java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n1; }
apiary_find_jdk() {
  local c major
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/* /opt/java/* /opt/jdk*; do
    [ -n "$c" ] && [ -x "$c/bin/javac" ] || continue
    major=$(apiary_java_major "$c")
    if [ -n "$major" ] && [ "${major%%.*}" -ge 21 ] 2>/dev/null; then
      export JAVA_HOME="$c"; return 0
    fi
  done
  echo "apiary: no JDK 21 or newer found (looked at \$JAVA_HOME and /usr/lib/jvm); install one, e.g. apt-get install openjdk-21-jdk-headless" >&2
  return 1
}
apiary_find_jdk
# Maven's own Guava warns about sun.misc.Unsafe on JDK 24+; that noise is not ours to fix.
if [ "$(apiary_java_major "$JAVA_HOME" | cut -d. -f1)" -ge 24 ] 2>/dev/null; then
  export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
fi
