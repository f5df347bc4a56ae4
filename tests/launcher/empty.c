/*
 * empty.c - a shared library that does nothing: the stand-in agent for the
 * launcher tests, so they check the launcher alone.
 */
int tl_launcher_empty_marker(void);

int tl_launcher_empty_marker(void)
{
    return 0;
}
