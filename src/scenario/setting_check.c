#include "scenario/setting_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *setting_mem_size_problem(const char *s)
{
    size_t digits = strspn(s, "0123456789");
    if (digits == 0 || (strcmp(s + digits, "M") && strcmp(s + digits, "G")) || atol(s) <= 0)
        return "expected a size in megabytes or gigabytes such as 512M or 8G";
    /* no GPU holds a petabyte; this also keeps the number within a long */
    if (digits > 7 || (s[digits] == 'G' && atol(s) > 1 << 20)) return "at most 1048576G (1 PiB), far above any GPU's memory";
    return NULL;
}

bool setting_mig_profile_ok(const char *s)
{
    unsigned g, mem;
    char tail[32] = "";
    return strlen(s) <= 32 && sscanf(s, "%ug.%ugb%31s", &g, &mem, tail) >= 2 && g > 0 && g <= 8 && mem > 0 &&
           (!tail[0] || tail[0] == '+');
}
