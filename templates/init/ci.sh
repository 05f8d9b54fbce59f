#!/bin/sh
# CI: install what package-lock.json pins, type-check and run the protocol's suite, then check
# every protocol coordkit.config.js names (exits non-zero on any unexpected verdict).
set -e
cd "$(dirname "$0")"
npm ci
npm test
npx coordkit all
