// `cimvp info`: the effective configuration and the platform's address map.
#include <cstdio>
#include <iostream>

#include "sw/app/command_line.h"
#include "sw/app/commands.h"
#include "hw/address_map.h"
#include "sw/formats/config_loader.h"

namespace cimvp::cli {

int info_command(const Args& args) {
    po::options_description d("cimvp info [options]");
    add_common(d);
    po::variables_map vm;
    if (parse_or_help(d, args, vm)) return kExitOk;
    const ArchConfig cfg = config_from(vm);
    const AddressMap map(cfg);
    std::cout << config_to_json(cfg).dump(2) << '\n';
    std::printf("address map: dram 0x%llx+0x%llx, global buffer 0x%llx+0x%llx, controller 0x%llx, dma 0x%llx, "
                "ppu 0x%llx, %d tiles from 0x%llx stride 0x%llx\n",
                static_cast<unsigned long long>(kDramBase), static_cast<unsigned long long>(map.dram_size()),
                static_cast<unsigned long long>(kGlobalBufferBase),
                static_cast<unsigned long long>(map.global_buffer_size()),
                static_cast<unsigned long long>(kControllerBase), static_cast<unsigned long long>(kDmaBase),
                static_cast<unsigned long long>(kPostProcessBase),
                cfg.platform.tiles, static_cast<unsigned long long>(kTileBase),
                static_cast<unsigned long long>(map.tile().stride));
    return kExitOk;
}

}  // namespace cimvp::cli
