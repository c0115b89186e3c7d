# Source this to use ape, anvil and the compiler by hand with the same settings as make:
#   source toolchain/env.sh
_unwind_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
export APE_DATA_FOLDER="$_unwind_root/.build/ape-data"
export SOLCX_BINARY_PATH="$_unwind_root/.build/solcx"
export MPLCONFIGDIR="$_unwind_root/.build/matplotlib"
export HYPOTHESIS_STORAGE_DIRECTORY="$_unwind_root/.build/hypothesis"
export PIP_CACHE_DIR="$_unwind_root/.build/pip-cache"
export npm_config_cache="$_unwind_root/.build/npm-cache"
export VIRTUAL_ENV="$_unwind_root/.venv"
# pip's user-agent probe runs `rustc --version`, and a rustup shim writes ~/.rustup/settings.toml;
# nothing in the project builds Rust (unset RUSTUP_HOME in this shell to use your own toolchain).
export RUSTUP_HOME="$_unwind_root/.build/rustup"
export PATH="$_unwind_root/toolchain/bin:$_unwind_root/.venv/bin:$_unwind_root/node_modules/.bin:$PATH"
unset _unwind_root
