// Stand-alone build of the softnic binding, used only until the shared nfp_host addon
// (host-runtime/binding.gyp) compiles targets/softnic/engine/*.cc itself.
#include <napi.h>

void nfp_softnic_register(Napi::Env env, Napi::Object exports);

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
	nfp_softnic_register(env, exports);
	return exports;
}

NODE_API_MODULE(nfp_softnic, Init)
