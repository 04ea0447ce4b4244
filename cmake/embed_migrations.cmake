# Embeds migrations/NNNN_name.sql into the binary, so a server applies the schema it was built with
# wherever it runs. The generated file is rebuilt whenever a migration file changes.
function(shadowplane_embed_migrations target)
  file(GLOB sql_files CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/migrations/*.sql)
  list(SORT sql_files)
  set(output ${CMAKE_BINARY_DIR}/gen/embedded_migrations.cc)
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${output} "-DFILES=${sql_files}"
            -P ${CMAKE_SOURCE_DIR}/cmake/write_embedded_migrations.cmake
    DEPENDS ${sql_files} ${CMAKE_SOURCE_DIR}/cmake/write_embedded_migrations.cmake
    COMMENT "embedding migrations/*.sql"
    VERBATIM)
  target_sources(${target} PRIVATE ${output})
endfunction()
