{
  "targets": [
    {
      "target_name": "nfp_host",
      "sources": [
        "<!@(ls -1 src/*.cc src/nfs/*.c 2>/dev/null)",
        "<!@(test -n \"$NFP_SKIP_ISOLATION\" || ls -1 src/isolation/*.cc 2>/dev/null || true)",
        "<!@(test -n \"$NFP_SKIP_SOFTNIC\" || ls -1 ../targets/softnic/engine/*.cc ../targets/dpdk/engine/*.cc 2>/dev/null || true)"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "include",
        "src"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "ALLOW_EXPERIMENTAL_API"],
      "cflags": ["<!@(pkg-config --cflags libdpdk)", "-O3", "-Wall", "-Wno-unused-parameter", "-fexceptions"],
      "cflags_c": ["-std=gnu11"],
      "cflags_cc": ["-std=gnu++17", "-fexceptions"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++14", "-std=gnu++1y"],
      "libraries": [
        "<!@(pkg-config --libs libdpdk)",
        "-Wl,--no-as-needed",
        "-lrte_mempool_ring",
        "-lrte_net_ring",
        "-lrte_net_null",
        "-lrte_net_pcap",
        "-lrte_net_af_packet",
        "-Wl,--as-needed"
      ]
    }
  ]
}
