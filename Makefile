# Two commands a newcomer needs:
#   make demo   install packages if missing, build, generate the sample shop,
#               import it, train, serve, and print recommendations over gRPC
#   make test   build normally and with ASan+UBSan, run the whole suite in both
# And `make cppcheck` (needs the cppcheck package): static analysis of the C
# tree, clean; the few false positives carry an inline reason.
BUILD     ?= build
SAN_BUILD ?= build-asan
JOBS      ?= $(shell nproc)

.PHONY: all deps build build-asan demo test test-normal test-asan cppcheck clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPATRON_WERROR=ON >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPATRON_SANITIZE=ON -DPATRON_WERROR=ON >/dev/null
	cmake --build $(SAN_BUILD) -j $(JOBS)

demo: build
	scripts/demo.sh $(BUILD)

test-normal: build
	cd $(BUILD) && ctest --output-on-failure

test-asan: build-asan
	cd $(SAN_BUILD) && ctest --output-on-failure

test: test-normal test-asan

CHECKED := base index recsys server
cppcheck:
	cppcheck --enable=warning,performance,portability --inline-suppr --std=c11 -q \
	    --error-exitcode=1 -j $(JOBS) \
	    $(addprefix -I ,$(sort $(dir $(shell find $(CHECKED) -name '*.h')))) $(CHECKED)

clean:
	rm -rf $(BUILD) $(SAN_BUILD) demo-data
