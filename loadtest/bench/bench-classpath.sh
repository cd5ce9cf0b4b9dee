#!/usr/bin/env bash
# Prints the class path of the loadtest module's test code (benchmark drivers, the testkit's OTLP receiver and
# fixtures, their dependencies), resolving it with Maven (offline first). The scripts beside it call this.
# Usage: loadtest/bench/bench-classpath.sh   (after `mvn -q -B install -DskipTests`)
set -euo pipefail
cd "$(dirname "$0")/../.."
cp_file="$PWD/loadtest/target/bench.classpath"
# Maven's own output goes to stderr: stdout carries only the class path.
{ mvn -q -B -o -pl loadtest dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" \
  || mvn -q -B -pl loadtest dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file"; } >&2
echo "$PWD/loadtest/target/test-classes:$PWD/loadtest/target/classes:$(cat "$cp_file")"
