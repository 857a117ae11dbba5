#!/bin/sh
# check.sh - exit 77 (ctest: skipped) unless php-cli with the curl extension
# is installed (scripts/install-deps.sh installs php-cli and php-curl); then
# php -l on the example.
set -eu
command -v php >/dev/null 2>&1 || { echo "SKIP: php missing (apt-get install php-cli php-curl)"; exit 77; }
php -r 'exit(function_exists("curl_init") ? 0 : 1);' ||
    { echo "SKIP: PHP's curl extension missing (apt-get install php-curl)"; exit 77; }
php -l "$(dirname "$0")/patron_example.php"
