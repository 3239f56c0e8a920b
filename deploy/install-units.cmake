# Runs at `cmake --install` time (CMAKE_INSTALL_PREFIX is the --prefix then):
# fills the binaries' and the site file's absolute paths and the shared
# hardening (systemd/hardening.conf) into the systemd units and installs them,
# the sysusers.d entry and the packaged site file.
set(prefix "${CMAKE_INSTALL_PREFIX}")
if(prefix STREQUAL "/usr" OR prefix STREQUAL "/")
  set(sysconf "/etc")        # as GNUInstallDirs: /usr/etc is not a thing
else()
  set(sysconf "${prefix}/etc")
endif()
string(REGEX REPLACE "/$" "" prefix_noslash "${prefix}")
set(OW_BINDIR "${prefix_noslash}/bin")
set(OW_SYSCONFDIR "${sysconf}")
set(OW_DOCDIR "${prefix_noslash}/share/doc/ohmwatch")
set(OW_SITE "${sysconf}/ohmwatch/site.json")
set(unitdir "${prefix_noslash}/lib/systemd/system")
set(dest "$ENV{DESTDIR}")

# The hardening the units share: one block, after hardening.conf's header.
file(READ "${OW_SOURCE_DIR}/systemd/hardening.conf" OW_HARDENING)
string(FIND "${OW_HARDENING}" "\n\n" body)
math(EXPR body "${body} + 2")
string(SUBSTRING "${OW_HARDENING}" ${body} -1 OW_HARDENING)
string(STRIP "${OW_HARDENING}" OW_HARDENING)

file(GLOB templates "${OW_SOURCE_DIR}/systemd/*.service.in")
foreach(t ${templates})
  get_filename_component(name "${t}" NAME_WLE)
  message(STATUS "Installing: ${dest}${unitdir}/${name}")
  configure_file("${t}" "${dest}${unitdir}/${name}" @ONLY)
endforeach()
# file(INSTALL) adds DESTDIR by itself; configure_file does not.
file(INSTALL "${OW_SOURCE_DIR}/systemd/ohmwatch.target" DESTINATION "${unitdir}")
file(INSTALL "${OW_SOURCE_DIR}/systemd/ohmwatch.sysusers" DESTINATION "${prefix_noslash}/lib/sysusers.d"
     RENAME ohmwatch.conf)
# A package marks it a conffile; an existing one is the operator's, kept.
if(NOT EXISTS "${dest}${OW_SITE}")
  file(INSTALL "${OW_SOURCE_DIR}/systemd/site.json" DESTINATION "${sysconf}/ohmwatch")
endif()
