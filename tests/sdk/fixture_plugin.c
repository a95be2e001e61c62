/* Test fixtures for the loader: one source file, built several times with a different FIXTURE
 * macro, each a plugin broken (or not) in one way the loader must notice. They are never used as
 * dialects: their functions only need to exist, the loader must not call them. */
#include <lms/plugin.h>

#include <string.h>

static uint32_t parse(const char* t, size_t n, void* c, void (*f)(void*, lms_str, lms_str), char* e,
                      size_t ec) {
  (void)t;
  (void)n;
  (void)c;
  (void)f;
  (void)e;
  (void)ec;
  return LMS_ERR_UNSUPPORTED;
}
static void frame(uint32_t d, const uint8_t* p, size_t n, lms_frame* o) {
  (void)d;
  (void)p;
  (void)n;
  o->result = LMS_FRAME_INVALID;
  o->error = "fixture";
}
static void* create(const lms_kv* s, size_t n) {
  (void)s;
  (void)n;
  return NULL;
}
static uint32_t fstep(void* f, const uint8_t* d, size_t n, size_t* c, const lms_emitter* o,
                      lms_front_result* r) {
  (void)f;
  (void)d;
  (void)n;
  (void)o;
  (void)r;
  *c = 0;
  return LMS_HS_FAILED;
}
static void finish(void* f, const uint8_t* w, size_t wn, const uint8_t* k, size_t kn, const lms_emitter* o) {
  (void)f;
  (void)w;
  (void)wn;
  (void)k;
  (void)kn;
  (void)o;
}
static void destroy(void* p) { (void)p; }
static void start(void* b, const lms_emitter* o) {
  (void)b;
  (void)o;
}
static uint32_t bstep(void* b, const uint8_t* d, size_t n, size_t* c, const lms_emitter* o,
                      lms_back_result* r) {
  (void)b;
  (void)d;
  (void)n;
  (void)o;
  (void)r;
  *c = 0;
  return LMS_HS_FAILED;
}
static void encode_error(const lms_error* e, const lms_emitter* o) {
  (void)e;
  (void)o;
}
static void encode_cancel(const uint8_t* k, size_t n, const lms_emitter* o) {
  (void)k;
  (void)n;
  (void)o;
}

static lms_dialect_functions functions = {sizeof(lms_dialect_functions),
                                          1234,
                                          8,
                                          parse,
                                          frame,
                                          create,
                                          fstep,
                                          finish,
                                          destroy,
                                          create,
                                          start,
                                          bstep,
                                          destroy,
                                          encode_error,
                                          encode_cancel,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          /* 1.5: translation */
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          /* 1.6: the cancel key's head shown to clients */
                                          0,
                                          /* 1.7: open transactions, rows written, fence */
                                          NULL,
                                          NULL,
                                          NULL,
                                          /* 1.8: replication position */
                                          NULL,
                                          /* 1.9: logins, change user */
                                          NULL,
                                          NULL,
                                          /* 1.10: transaction pooling */
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          /* 1.11: statement work */
                                          NULL,
                                          /* 1.12: deferred BEGIN */
                                          NULL,
                                          /* 1.13: pool server options */
                                          NULL};

static lms_plugin_descriptor descriptor = {sizeof(lms_plugin_descriptor),
                                           LMS_PLUGIN_ABI_MAJOR,
                                           LMS_PLUGIN_ABI_MINOR,
                                           LMS_PLUGIN_DIALECT,
                                           {"fixture", 7},
                                           {"0", 1},
                                           &functions};

#if FIXTURE == 6 /* the entry under the wrong name: no lms_plugin_entry symbol */
LMS_PLUGIN_EXPORT const lms_plugin_descriptor* lms_plugin_entry_v0(const lms_negotiation* n) {
  (void)n;
  return &descriptor;
}
#else
LMS_PLUGIN_EXPORT const lms_plugin_descriptor* lms_plugin_entry(const lms_negotiation* n) {
  (void)n;
#if FIXTURE == 1   /* built for another major */
  descriptor.abi_major = 2;
#elif FIXTURE == 2 /* built for a newer minor than the host has: loads, read as far as known */
  descriptor.abi_minor = LMS_PLUGIN_ABI_MINOR + 1;
#elif FIXTURE == 3 /* a descriptor too small to hold what 1.0 requires */
  descriptor.struct_size = offsetof(lms_plugin_descriptor, name);
#elif FIXTURE == 4 /* a function table ending before the optional functions: must load */
  functions.struct_size = offsetof(lms_dialect_functions, encode_terminate);
#elif FIXTURE == 5 /* a required function missing */
  functions.frame = NULL;
#elif FIXTURE == 7 /* refuses the host */
  return NULL;
#elif FIXTURE == 8 /* claims to be a shadow plugin */
  descriptor.kind = LMS_PLUGIN_SHADOW;
#endif
  return &descriptor;
}
#endif
