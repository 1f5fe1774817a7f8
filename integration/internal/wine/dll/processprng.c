/*
 * bcryptprimitives.dll with the one export Go needs: since Go 1.22 a
 * Windows program gets its random bytes from ProcessPrng, which Wine 8.0
 * does not have (the program dies at start with "bcryptprimitives.dll
 * not found"). This fills the buffer from advapi32's SystemFunction036
 * (RtlGenRandom), which Wine implements, in chunks its ULONG length takes.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0)
    {
        ULONG n = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, n)) return FALSE;
        data += n;
        length -= n;
    }
    return TRUE;
}
