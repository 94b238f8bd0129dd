{
  "targets": [
    {
      "target_name": "nfp_softnic",
      "sources": [
        "engine/json.cc",
        "engine/loader.cc",
        "engine/engine.cc",
        "engine/binding.cc",
        "engine/raw_socket.cc",
        "local/addon_main.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS", "NAPI_VERSION=8"],
      "cflags_cc": ["-std=c++17", "-O2", "-fno-exceptions", "-Wall", "-Wextra"],
      "cflags_cc!": ["-std=gnu++17", "-fno-rtti"]
    }
  ]
}
