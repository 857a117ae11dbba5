# Two commands a newcomer needs:
#   make demo   install packages if missing, build, generate the sample shop,
#               import it, train, serve, and print recommendations over gRPC
#   make test   build normally and with ASan+UBSan, run the whole suite in both,
#               then run each libFuzzer driver for a few seconds (clang build)
# And `make cppcheck` (needs the cppcheck package): static analysis of the C
# tree, clean; the few false positives carry an inline reason.
BUILD     ?= build
SAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 10
JOBS      ?= $(shell nproc)

.PHONY: all deps build build-asan build-fuzz demo test test-normal test-asan test-fuzz cppcheck clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPATRON_WERROR=ON >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPATRON_SANITIZE=ON -DPATRON_WERROR=ON >/dev/null
	cmake --build $(SAN_BUILD) -j $(JOBS)

# The libFuzzer drivers (tests/fuzz/README.md): clang, ASan+UBSan.
build-fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DPATRON_FUZZ=ON -DPATRON_FUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

demo: build
	scripts/demo.sh $(BUILD)

test-normal: build
	cd $(BUILD) && ctest --output-on-failure

test-asan: build-asan
	cd $(SAN_BUILD) && ctest --output-on-failure

test-fuzz: build-fuzz
	cd $(FUZZ_BUILD) && ctest -L fuzz --output-on-failure

test: test-normal test-asan test-fuzz

CHECKED := base index recsys server
cppcheck:
	cppcheck --enable=warning,performance,portability --inline-suppr --std=c11 -q \
	    --error-exitcode=1 -j $(JOBS) \
	    $(addprefix -I ,$(sort $(dir $(shell find $(CHECKED) -name '*.h')))) $(CHECKED)

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(FUZZ_BUILD) demo-data
