#!/usr/bin/env bash
# Installs the Debian packages cimvp builds and runs with (docs/setup.md).
# Only what is missing is installed; running it twice is harmless.
set -euo pipefail

# Build and test toolchain, SystemC/TLM, RTL co-simulation.
build_pkgs=(build-essential cmake ninja-build pkg-config git
            libsystemc-dev verilator yosys
            libboost-dev libboost-program-options-dev
            googletest libgtest-dev libbenchmark-dev nlohmann-json3-dev zlib1g-dev
            gtkwave xvfb xauth)
# Scale-out: MPI-parallel runs, a single-node Slurm cluster for sweeps, SQLite tables.
scale_pkgs=(openmpi-bin libopenmpi-dev slurm-wlm munge sqlite3)
# Hardening (docs/hardening.md): clang and its libFuzzer and sanitizer runtimes for the fuzz harnesses.
harden_pkgs=(clang libclang-rt-14-dev)
# Front end (training, fake-quant reference) and the data set.
python_pkgs=(python3 python3-numpy python3-torch python3-matplotlib python3-onnx python3-yaml dataset-fashion-mnist)

want=("${build_pkgs[@]}" "${scale_pkgs[@]}" "${harden_pkgs[@]}")
if [[ "${CIMVP_SETUP_PYTHON:-1}" == "1" ]]; then
  want+=("${python_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#want[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
