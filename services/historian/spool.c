/* placeholder */ typedef int ow_placeholder_t;
