# libcartoon build. `make` builds the libraries and programs under build/;
# `make test` runs the suite; `make demo` converts the model and cartoonizes a sample.
# Variables: PREFIX (install), CUDA=0 (no CUDA backend), CC, NVCC, CUDA_ARCHS.
#
# What is built from where (lib/README.md has the map):
#   libcartoon     lib/core lib/util lib/cpu lib/cuda kernels/cpu kernels/cuda: the engine;
#                  links OpenBLAS, jansson (and CUDA), no image codecs
#   libcartoon-io  lib/io lib/batch (+ lib/util): PNG/JPEG/WebP files and the batch runner;
#                  links libcartoon, libpng, libjpeg, libwebp, libexif
#   libcartoon-convert.a  lib/convert: TFLite reader and converters, for cartoon-convert and
#                  the tests only; never installed

PREFIX     ?= /usr/local
CC         ?= cc
BUILD      ?= build
SHARED_DIR ?= ../shared
VERSION    := 0.1.0
SOMAJOR    := 0

OPT        ?= -O2
INCLUDES   := -Iinclude -Ilib/util -Ilib/core -Ilib/cpu -Ilib/cuda -Ilib/io -Ilib/batch -Ilib/convert \
              -Ikernels/cpu -Ikernels/cuda -Itests/support
CFLAGS_ALL := -std=c11 $(OPT) -g -Wall -Wextra -Wshadow -Wno-unused-parameter -fPIC -fvisibility=hidden \
              -D_DEFAULT_SOURCE -D_FILE_OFFSET_BITS=64 -pthread $(INCLUDES) $(CFLAGS) $(EXTRA_CFLAGS)
CORE_LIBS  := -lopenblas -ljansson -lm -pthread
IO_LIBS    := -lpng -ljpeg -lwebp -lwebpdemux -lexif -lxxhash
PKG_LIBS    = $(CORE_LIBS) $(IO_LIBS)
# FFmpeg, for cartoonize's video mode only (no library links it)
VIDEO_LIBS := -lavformat -lavcodec -lswscale -lavutil
LDFLAGS_ALL:= $(LDFLAGS) $(EXTRA_LDFLAGS)

# ---- CUDA (optional): built when nvcc is found, unless CUDA=0
NVCC       ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
CUDA_HOME  ?= $(patsubst %/bin/nvcc,%,$(NVCC))
CUDA_ARCHS ?= 80 86 89 90
ifeq ($(CUDA),0)
  NVCC :=
endif
CU_SRC     := $(if $(NVCC),$(wildcard lib/cuda/*.cu kernels/cuda/*.cu),)
# cuDNN is optional (CARTOON_CUDA_CONV=cudnn only): CUDNN=1 or 0; by default 1 when cudnn.h and
# libcudnn.so are in CUDA_HOME or /usr. Only lib/cuda/conv_cudnn.cu includes it.
CUDNN      ?= $(if $(wildcard $(CUDA_HOME)/include/cudnn.h /usr/include/cudnn.h /usr/include/*-linux-gnu/cudnn.h),$\
                $(if $(wildcard $(CUDA_HOME)/lib64/libcudnn.so /usr/lib/*-linux-gnu/libcudnn.so /usr/lib64/libcudnn.so),1,0),0)
CU_DEFS    := $(if $(filter 1,$(CUDNN)),-DCARTOON_HAVE_CUDNN=1,)
ifneq ($(CU_SRC),)
  CFLAGS_ALL += -DCARTOON_HAVE_CUDA=1 -I$(CUDA_HOME)/include
  CORE_LIBS  += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 $(if $(CU_DEFS),-lcudnn,) -lcublas -lcudart -lstdc++
  # sm_XX machine code for each listed architecture, plus PTX of the newest so later GPUs
  # can JIT it; --threads 0 compiles the architectures in parallel.
  NVCCFLAGS  ?= -O3 -std=c++17 -Xcompiler -fPIC -Xcompiler -fvisibility=hidden $(INCLUDES) \
                $(foreach a,$(CUDA_ARCHS),-gencode arch=compute_$(a),code=sm_$(a)) \
                -gencode arch=compute_$(lastword $(CUDA_ARCHS)),code=compute_$(lastword $(CUDA_ARCHS)) \
                --threads 0 -Wno-deprecated-gpu-targets
endif

UTIL_SRC   := $(wildcard lib/util/*.c)
LIB_SRC    := $(wildcard lib/core/*.c lib/cpu/*.c lib/cuda/*.c kernels/cpu/*.c) $(UTIL_SRC)
LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(CU_SRC:%.cu=$(BUILD)/obj/%.o)
# lib/batch (the pipelined batch runner) uses the engine: libcartoon-io.so links libcartoon.
IO_SRC     := $(wildcard lib/io/*.c lib/batch/*.c) lib/util/errors.c lib/util/file_io.c
IO_OBJ     := $(IO_SRC:%.c=$(BUILD)/obj/%.o)
CONVERT_OBJ:= $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard lib/convert/*.c))
PROGS      := $(BUILD)/cartoonize $(BUILD)/cartoon-convert $(BUILD)/cartoon-bench
# cartoon-serve (examples/cartoon_serve.c + examples/serve/): the HTTP server, on libmicrohttpd;
# its page examples/web/index.html is compiled in (xxd -i).
PROGS      += $(BUILD)/cartoon-serve
SERVE_OBJ  := $(patsubst %.c,$(BUILD)/obj/%.o,examples/cartoon_serve.c $(wildcard examples/serve/*.c)) \
              $(BUILD)/obj/gen/serve_page.o
SERVE_LIBS := -lmicrohttpd -lxxhash
EXAMPLES   := $(BUILD)/example-minimal $(BUILD)/batch-bench
TEST_SRC   := $(wildcard tests/test_*.c)
TEST_BIN   := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
# Shell tests run after the programs: test_exports.sh installs into a temporary prefix and
# builds tests/exports_client.c against it with pkg-config.
TEST_SCRIPTS := tests/test_exports.sh
# cartoon-serve over HTTP (python3, stdlib only): routes, error statuses, uploads, 503, SIGTERM.
TEST_SCRIPTS += tests/test_serve_http.py
# The student's training code (weights/distill/) against sums by hand and the engine: needs
# python3-torch (`make deps DISTILL=1`; skipped with the reason without it). CI runs it.
TEST_SCRIPTS += tests/test_distill.py
# `make test-web`: the page in headless Chromium (python3-selenium) and a bounded load test
# (16 clients x 30 s on 127.0.0.1); `make deps WEB=1` installs Chromium. CI runs both.
WEB_TESTS  := tests/test_serve_browser.py tests/test_serve_load.py
TEST_SUPPORT := $(wildcard tests/support/*.c)

STATIC_LIB := $(BUILD)/libcartoon.a
SHARED_LIB := $(BUILD)/libcartoon.so.$(VERSION)
IO_STATIC  := $(BUILD)/libcartoon-io.a
IO_SHARED  := $(BUILD)/libcartoon-io.so.$(VERSION)
CONVERT_LIB:= $(BUILD)/libcartoon-convert.a
# What the programs link: the static libraries, then every system library under them.
PROG_LIBS   = $(CONVERT_LIB) $(IO_STATIC) $(STATIC_LIB)

.PHONY: all test test-web check-asan check-tsan demo model install clean deps fuzz FORCE
all: $(STATIC_LIB) $(SHARED_LIB) $(IO_STATIC) $(IO_SHARED) $(PROGS) $(EXAMPLES) \
     $(BUILD)/libcartoon.pc $(BUILD)/libcartoon-io.pc

# Instruction-set specific kernels: the suffix says what the file may use; the library
# picks them at run time (the table in lib/cpu/cpu_kernels.c), so the build runs on any x86-64.
$(BUILD)/obj/%_avx2.o: %_avx2.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -mavx2 -mfma -mf16c -MMD -MP -c $< -o $@
# AVX512_TUNE: GCC 12's generic tuning, for 512-bit code, reloads operands it could keep in
# registers (the RGB-output kernel did 18 loads per 9 FMAs and ran 1.6x the AVX2 kernel's time
# on Zen 5); tuned for an AVX-512 server, the same source keeps them (29 ms instead of 54 for
# that layer at 1024). These objects run only on AVX-512 CPUs. GCC 12 has no znver4/5 tuning.
AVX512_TUNE ?= -mtune=icelake-server
$(BUILD)/obj/%_avx512.o: %_avx512.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma -mf16c $(AVX512_TUNE) -MMD -MP -c $< -o $@
$(BUILD)/obj/%_avx512bf16.o: %_avx512bf16.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512bf16 -mfma -mf16c $(AVX512_TUNE) -MMD -MP -c $< -o $@
# The portable direct-convolution kernels use 8-lane GCC vectors between static functions;
# GCC's note about their ABI without AVX does not concern code that never crosses a TU.
$(BUILD)/obj/kernels/cpu/conv_direct_generic.o $(BUILD)/obj/kernels/cpu/dwpw_generic.o \
$(BUILD)/obj/kernels/cpu/guided_filter_generic.o: CFLAGS_ALL += -Wno-psabi
# Same for the 16-lane generic-vector kernels built for AVX2 (the AVX-512 template, tested
# on machines without AVX-512; lib/cpu/cpu_kernels.c never chooses them).
$(BUILD)/obj/kernels/cpu/conv_direct_v16_avx2.o $(BUILD)/obj/kernels/cpu/conv_winograd_v16_avx2.o \
$(BUILD)/obj/kernels/cpu/upsample_v16_avx2.o $(BUILD)/obj/kernels/cpu/dwpw_v16_avx2.o \
$(BUILD)/obj/kernels/cpu/guided_filter_v16_avx2.o $(BUILD)/obj/kernels/cpu/conv_direct_bf16_v16_avx2.o: CFLAGS_ALL += -Wno-psabi
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@
$(BUILD)/obj/%.o: %.cu
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -MMD -MP -c $< -o $@
# The one file that sees CUDNN, rebuilt when the setting changes: its recipe leaves a stamp
# naming the setting it was built with, and a missing stamp forces it (a dry run of an
# up-to-date build then compiles nothing).
CUDNN_STAMP := $(BUILD)/cudnn-$(if $(CU_DEFS),1,0).stamp
$(BUILD)/obj/lib/cuda/conv_cudnn.o: lib/cuda/conv_cudnn.cu $(if $(wildcard $(CUDNN_STAMP)),,FORCE)
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) $(CU_DEFS) -MMD -MP -c $< -o $@
	@rm -f $(BUILD)/cudnn-*.stamp && touch $(CUDNN_STAMP)

$(STATIC_LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(IO_STATIC): $(IO_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(CONVERT_LIB): $(CONVERT_OBJ)
	@rm -f $@
	ar rcs $@ $^
# Each shared library exports exactly its CARTOON_API functions (-fvisibility=hidden);
# tests/test_exports.sh checks that with nm -D.
$(SHARED_LIB): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libcartoon.so.$(SOMAJOR) -Wl,--no-undefined -o $@ $^ $(LDFLAGS_ALL) $(CORE_LIBS)
	ln -sf libcartoon.so.$(VERSION) $(BUILD)/libcartoon.so.$(SOMAJOR)
	ln -sf libcartoon.so.$(SOMAJOR) $(BUILD)/libcartoon.so
$(IO_SHARED): $(IO_OBJ) $(SHARED_LIB)
	$(CC) -shared -Wl,-soname,libcartoon-io.so.$(SOMAJOR) -Wl,--no-undefined -o $@ $(IO_OBJ) $(LDFLAGS_ALL) \
	  -L$(BUILD) -Wl,-rpath,'$$ORIGIN' -lcartoon $(IO_LIBS) -pthread
	ln -sf libcartoon-io.so.$(VERSION) $(BUILD)/libcartoon-io.so.$(SOMAJOR)
	ln -sf libcartoon-io.so.$(SOMAJOR) $(BUILD)/libcartoon-io.so

$(BUILD)/cartoonize: $(BUILD)/obj/examples/cartoonize.o $(BUILD)/obj/examples/cartoonize_args.o \
  $(BUILD)/obj/examples/cartoonize_inputs.o $(BUILD)/obj/examples/cartoonize_progress.o \
  $(BUILD)/obj/examples/cartoonize_estimate.o $(BUILD)/obj/examples/cartoonize_video.o $(PROG_LIBS)
	$(CC) -o $@ $^ $(LDFLAGS_ALL) $(PKG_LIBS) $(VIDEO_LIBS)
$(BUILD)/cartoon-convert: $(BUILD)/obj/examples/cartoon_convert.o $(PROG_LIBS)
	$(CC) -o $@ $^ $(LDFLAGS_ALL) $(PKG_LIBS)
$(BUILD)/cartoon-bench: $(BUILD)/obj/bench/cartoon_bench.o $(BUILD)/obj/bench/fma_peak.o $(PROG_LIBS)
	$(CC) -o $@ $^ $(LDFLAGS_ALL) $(PKG_LIBS)
# The batch runner against the network alone (README, "Many images"); not installed.
$(BUILD)/batch-bench: $(BUILD)/obj/bench/batch_bench.o $(PROG_LIBS)
	$(CC) -o $@ $^ $(LDFLAGS_ALL) $(PKG_LIBS)
$(BUILD)/cartoon-serve: $(SERVE_OBJ) $(PROG_LIBS)
	$(CC) -o $@ $^ $(LDFLAGS_ALL) $(PKG_LIBS) $(SERVE_LIBS)
$(BUILD)/gen/serve_page.c: examples/web/index.html
	@mkdir -p $(dir $@)
	{ echo '/* generated from $< by the Makefile */'; \
	  echo 'const unsigned char serve_page_html[] = {'; xxd -i < $<; echo '};'; \
	  echo 'const unsigned int serve_page_html_len = sizeof serve_page_html;'; } > $@
$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@
# The README's example, linked against the shared libraries as a user's program would be.
$(BUILD)/example-minimal: $(BUILD)/obj/examples/minimal.o $(SHARED_LIB) $(IO_SHARED)
	$(CC) -o $@ $< -L$(BUILD) -Wl,-rpath,'$$ORIGIN' -lcartoon-io -lcartoon $(LDFLAGS_ALL)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(TEST_SUPPORT:%.c=$(BUILD)/obj/%.o) $(PROG_LIBS)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDFLAGS_ALL) $(TEST_LDFLAGS) $(PKG_LIBS)

# The allocation-failure test routes the library's allocations through its own wrappers.
$(BUILD)/tests/test_alloc_failure: TEST_LDFLAGS = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=aligned_alloc
# The cost-model test counts the library's allocations to check the memory estimate exactly.
$(BUILD)/tests/test_estimate: TEST_LDFLAGS = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=aligned_alloc,--wrap=free

# Rewritten on every make so it names the PREFIX of this invocation (make install PREFIX=...).
$(BUILD)/libcartoon.pc: FORCE
	@mkdir -p $(BUILD)
	@printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	  'Name: libcartoon' 'Description: UNet portrait cartoonizer inference engine' \
	  'Version: $(VERSION)' 'Libs: -L$${libdir} -lcartoon' \
	  'Libs.private: $(CORE_LIBS)' 'Cflags: -I$${includedir}' > $@
$(BUILD)/libcartoon-io.pc: FORCE
	@mkdir -p $(BUILD)
	@printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	  'Name: libcartoon-io' 'Description: PNG, JPEG and WebP files for libcartoon' \
	  'Version: $(VERSION)' 'Requires: libcartoon' 'Libs: -L$${libdir} -lcartoon-io' \
	  'Libs.private: $(IO_LIBS)' 'Cflags: -I$${includedir}' > $@

# The installed models' directory is compiled into lib/core/model_find.c (where
# cartoon_model_find looks after the user's), and so are this source tree's weights/student
# (the committed student) and weights (the White-box model `make model` writes), the last
# places looked at, so that programs run from the build tree find them; STUDENT_DIR= and
# SOURCE_WEIGHTS_DIR= leave them out, e.g. for a package build. The stamp records all three and
# is rewritten only when they change, so `make install PREFIX=/x` rebuilds that one object,
# and only when needed.
DATADIR := $(PREFIX)/share/libcartoon
STUDENT_DIR ?= $(CURDIR)/weights/student
SOURCE_WEIGHTS_DIR ?= $(CURDIR)/weights
STUDENT      := weights/student/cartoon-student.safetensors
MODEL_PLACES = '$(DATADIR)' '$(STUDENT_DIR)' '$(SOURCE_WEIGHTS_DIR)'
MODEL_PLACES_FLAGS = -DCARTOON_DATADIR='"$(DATADIR)"' -DCARTOON_STUDENT_DIR='"$(STUDENT_DIR)"' \
  -DCARTOON_SOURCE_WEIGHTS_DIR='"$(SOURCE_WEIGHTS_DIR)"'
$(BUILD)/datadir.stamp: FORCE
	@mkdir -p $(BUILD)
	@printf '%s\n' $(MODEL_PLACES) | cmp -s - $@ || printf '%s\n' $(MODEL_PLACES) > $@
$(BUILD)/obj/lib/core/model_find.o: $(BUILD)/datadir.stamp
$(BUILD)/obj/lib/core/model_find.o: CFLAGS_ALL += $(MODEL_PLACES_FLAGS)
$(BUILD)/obj/tests/test_model_find.o: $(BUILD)/datadir.stamp
$(BUILD)/obj/tests/test_model_find.o: CFLAGS_ALL += $(MODEL_PLACES_FLAGS)

# The suite: unit tests per op, model file and image parsers, end-to-end checks against
# $(SHARED_DIR)/reference. Ends with "N passed, N failed".
test: all $(TEST_BIN)
	@CARTOON_SHARED=$(SHARED_DIR) CARTOON_BUILD=$(BUILD) sh tests/run_tests.sh $(TEST_BIN) $(TEST_SCRIPTS)

# The test model is made by the suite's converter test; the scripts convert one themselves
# when it is missing.
test-web: all
	@CARTOON_SHARED=$(SHARED_DIR) CARTOON_BUILD=$(BUILD) sh tests/run_tests.sh $(WEB_TESTS)

# The suite again under AddressSanitizer + UndefinedBehaviorSanitizer, in its own build dir.
check-asan:
	$(MAKE) BUILD=build-asan CUDA=0 OPT=-O1 \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" CARTOON_TEST_QUICK=1 test

# The thread tests under ThreadSanitizer.
check-tsan:
	$(MAKE) BUILD=build-tsan CUDA=0 OPT=-O1 EXTRA_CFLAGS="-fsanitize=thread" \
	  EXTRA_LDFLAGS="-fsanitize=thread" build-tsan/cartoon-convert build-tsan/tests/test_threads \
	  build-tsan/tests/test_batch build-tsan/tests/test_result_cache
	CARTOON_SHARED=$(SHARED_DIR) CARTOON_BUILD=build-tsan CARTOON_TEST_QUICK=1 \
	  sh tests/run_tests.sh build-tsan/tests/test_threads build-tsan/tests/test_batch build-tsan/tests/test_result_cache

# libFuzzer targets (clang); FUZZ_SECONDS per target, see docs/robustness.md.
FUZZ_SECONDS ?= 30
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh

deps:
	sh scripts/install-deps.sh

# The model the programs and the demo use: weights/whitebox.safetensors, converted (when it
# is missing) from MODEL_TFLITE, by default the shared copy; when that is absent, from the
# published file that scripts/fetch-model.sh downloads and checks (sha256) into weights/.
MODEL_TFLITE ?= $(SHARED_DIR)/models/whitebox_cartoon_gan_fp16.tflite
MODEL        := weights/whitebox.safetensors
MODEL_FETCHED:= weights/whitebox_cartoon_gan_fp16.tflite
model:
	@if [ -f $(MODEL) ]; then echo "model: $(MODEL) is there (delete it to convert again)"; exit 0; fi; \
	src="$(MODEL_TFLITE)"; \
	if [ ! -f "$$src" ]; then \
	  if [ "$(origin MODEL_TFLITE)" != file ]; then echo "model: MODEL_TFLITE=$$src: no such file"; exit 1; fi; \
	  echo "model: no $$src; fetching the published model into $(MODEL_FETCHED)"; \
	  src=$(MODEL_FETCHED); sh scripts/fetch-model.sh "$$src" || exit 1; \
	fi; \
	$(MAKE) --no-print-directory $(BUILD)/cartoon-convert || exit 1; \
	mkdir -p $(dir $(MODEL)) && $(BUILD)/cartoon-convert "$$src" $(MODEL) || exit 1; \
	echo "model: wrote $(MODEL) from $$src (use it with -m $(MODEL), CARTOON_MODEL=$(abspath $(MODEL)), or make install)"

# Builds, makes the model and cartoonizes a portrait: DEMO_IMAGE, by default the shared one, or
# when that is absent scikit-image's astronaut photo (public domain; python3-skimage, which
# install-deps.sh then installs). The model is the White-box one when `make model` can make it
# (from the shared copy or a download), else the committed student: a fresh clone offline works.
DEMO_IMAGE ?= $(SHARED_DIR)/images/astronaut.png
DEMO_IMAGE_PACKAGED := /usr/lib/python3/dist-packages/skimage/data/astronaut.png
demo:
	@img="$(DEMO_IMAGE)"; packaged=0; \
	if [ ! -f "$$img" ]; then \
	  if [ "$(origin DEMO_IMAGE)" != file ]; then echo "demo: no picture at $$img"; exit 1; fi; \
	  echo "demo: no $$img; using scikit-image's astronaut photo ($(DEMO_IMAGE_PACKAGED))"; \
	  img=$(DEMO_IMAGE_PACKAGED); packaged=1; \
	fi; \
	DEMO=$$packaged sh scripts/install-deps.sh || exit 1; \
	test -f "$$img" || { echo "demo: no picture at $$img; name one: make demo DEMO_IMAGE=portrait.jpg"; exit 1; }; \
	$(MAKE) --no-print-directory all || exit 1; \
	if $(MAKE) --no-print-directory model; then m=$(MODEL); \
	elif [ -f $(STUDENT) ]; then m=$(STUDENT); \
	  echo "demo: no White-box model (see above); running the built-in student model instead"; \
	else echo "demo: no model: neither $(MODEL) nor $(STUDENT)"; exit 1; fi; \
	name=$$(basename "$$img"); out=$(BUILD)/demo/$${name%.*}_cartoon.png; \
	mkdir -p $(BUILD)/demo && $(BUILD)/cartoonize -m $$m "$$img" -o "$$out" || exit 1; \
	echo "demo: wrote $(CURDIR)/$$out"

install: all
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 include/*.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(STATIC_LIB) $(IO_STATIC) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED_LIB) $(IO_SHARED) $(DESTDIR)$(PREFIX)/lib/
	for l in libcartoon libcartoon-io; do \
	  ln -sf $$l.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$$l.so.$(SOMAJOR); \
	  ln -sf $$l.so.$(SOMAJOR) $(DESTDIR)$(PREFIX)/lib/$$l.so; done
	install -m 644 $(BUILD)/libcartoon.pc $(BUILD)/libcartoon-io.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	@if [ -f $(MODEL) ]; then \
	  install -d $(DESTDIR)$(DATADIR) && install -m 644 $(MODEL) $(DESTDIR)$(DATADIR)/ && \
	  echo "install: model installed as $(DESTDIR)$(DATADIR)/whitebox.safetensors"; \
	else echo "install: no $(MODEL), no White-box model installed (make model, then make install again; programs look for it in $(DATADIR))"; fi
	@if [ -f $(STUDENT) ]; then \
	  install -d $(DESTDIR)$(DATADIR) && install -m 644 $(STUDENT) $(DESTDIR)$(DATADIR)/ && \
	  install -m 644 weights/student/NOTICE.md $(DESTDIR)$(DATADIR)/cartoon-student-NOTICE.md && \
	  echo "install: student model installed as $(DESTDIR)$(DATADIR)/cartoon-student.safetensors (the fallback)"; \
	else echo "install: no $(STUDENT), no student model installed"; fi

clean:
	rm -rf build build-asan build-tsan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
.SECONDARY:
