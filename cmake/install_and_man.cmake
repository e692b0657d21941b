# What `cmake --install` puts where: cotenant and every workload program in
# bin/ (cotenant finds its workloads next to itself), a man page for each
# (help2man, from its own --help and --version) in share/man/man1, and bash
# completion for cotenant in share/bash-completion/completions.

# program: the line under NAME in its man page
set(COTENANT_PROGRAMS
  "cotenant|measure ML workloads sharing an NVIDIA GPU, and say how to share it"
  "cotenant-cpu-burn|a CPU workload of exactly known rate, compute or memory bound"
  "cotenant-gemm|a GPU workload: cuBLAS matrix multiplications, back to back"
  "cotenant-resnet50|train ResNet-50 on the GPU (cuDNN) or the CPU"
  "cotenant-bert|train BERT on the GPU (cuBLASLt) or the CPU"
  "cotenant-infer|offline inference: ResNet-50 or BERT batches back to back"
  "cotenant-interactive|a notebook user: bursts of GPU work between think times"
  "cotenant-serve|a KServe v2 inference server with dynamic batching"
  "cotenant-loadgen|drive a KServe v2 server in open or closed loop and measure it")

set(man_pages "")
find_program(HELP2MAN help2man)
foreach(entry ${COTENANT_PROGRAMS})
  string(REPLACE "|" ";" parts "${entry}")
  list(GET parts 0 prog)
  list(GET parts 1 what)
  if(NOT TARGET ${prog})
    continue()
  endif()
  install(TARGETS ${prog} RUNTIME DESTINATION bin)
  if(HELP2MAN)
    set(page ${CMAKE_BINARY_DIR}/man/${prog}.1)
    add_custom_command(OUTPUT ${page}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
      COMMAND ${HELP2MAN} --no-info --no-discard-stderr --section=1 "--name=${what}" --output=${page} $<TARGET_FILE:${prog}>
      DEPENDS ${prog} VERBATIM)
    list(APPEND man_pages ${page})
  endif()
endforeach()
if(HELP2MAN)
  add_custom_target(man ALL DEPENDS ${man_pages})
  install(FILES ${man_pages} DESTINATION share/man/man1)
else()
  message(STATUS "help2man not found: no man pages (scripts/install_deps.sh installs it with the test tools)")
endif()
install(FILES ${CMAKE_SOURCE_DIR}/scripts/completion/cotenant.bash DESTINATION share/bash-completion/completions
        RENAME cotenant)
