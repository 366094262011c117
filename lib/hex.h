/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hex.h - the value of a hexadecimal digit
 *
 * SYNOPSIS
 *	int v = hex_value(c);       0 to 15, or -1 for anything but [0-9a-fA-F]
 *
 * DESCRIPTION
 *	One definition for the places that read hex: =XX in quoted-printable,
 *	%XX in form data, the key files' hex secrets. Inline, for the rewrite
 *	engine's decoders.
 */
#ifndef SG_LIB_HEX_H
#define SG_LIB_HEX_H

static inline int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

#endif
